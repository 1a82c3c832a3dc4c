package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are sendguard's Prometheus metrics. They live in a registry the
// caller owns (never the global one), so tests can run side by side.
type Metrics struct {
	Received     prometheus.Counter
	ReceivedSize prometheus.Counter
	Rejected     *prometheus.CounterVec
	Actions      *prometheus.CounterVec
	Shadow       *prometheus.CounterVec
	ShadowStops  *prometheus.CounterVec
	Delivered    prometheus.Counter
	Deferred     prometheus.Counter
	Bounced      prometheus.Counter
	DsnSent      prometheus.Counter
	Connections  prometheus.Gauge
	AuthFailures prometheus.Counter
	DeliveryLat  prometheus.Histogram
	AcceptLat    prometheus.Histogram
}

// NewMetrics registers the metrics in reg. depth reports the queue depth
// by state when scraped.
func NewMetrics(reg prometheus.Registerer, depth func() map[string]int) *Metrics {
	m := &Metrics{
		Received: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_received_total",
			Help: "Messages accepted with 250."}),
		ReceivedSize: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_received_bytes_total",
			Help: "Bytes of messages accepted."}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sendguard_rejected_total",
			Help: "Messages or connections refused, by reason."}, []string{"reason"}),
		Actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sendguard_policy_actions_total",
			Help: "Policy actions applied on acceptance."}, []string{"action"}),
		Shadow: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sendguard_shadow_matches_total",
			Help: "Matches of rules in mode: shadow on accepted or rejected messages (not enforced)."}, []string{"rule"}),
		ShadowStops: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sendguard_shadow_would_stop_total",
			Help: "Shadow matches on messages the live policy let through that the rule would have held or rejected."}, []string{"rule"}),
		Delivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_delivered_total",
			Help: "Recipients delivered to the next hop."}),
		Deferred: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_deferred_total",
			Help: "Delivery attempts that failed temporarily (per recipient)."}),
		Bounced: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_bounced_total",
			Help: "Recipients that failed permanently or expired."}),
		DsnSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_dsn_generated_total",
			Help: "Delivery status notifications generated."}),
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sendguard_smtp_connections",
			Help: "Open inbound SMTP connections."}),
		AuthFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_smtp_auth_failures_total",
			Help: "Failed SMTP AUTH attempts."}),
		DeliveryLat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sendguard_delivery_latency_seconds",
			Help:    "Time from acceptance to delivery of the last recipient.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400}}),
		AcceptLat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sendguard_accept_latency_seconds",
			Help:    "Time from end of DATA to the 250 reply (inspection plus durable spool).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
	}
	reg.MustRegister(m.Received, m.ReceivedSize, m.Rejected, m.Actions, m.Shadow, m.ShadowStops, m.Delivered, m.Deferred,
		m.Bounced, m.DsnSent, m.Connections, m.AuthFailures, m.DeliveryLat, m.AcceptLat)
	if depth != nil {
		reg.MustRegister(&depthCollector{fn: depth, desc: prometheus.NewDesc("sendguard_queue_depth",
			"Messages in the store by state.", []string{"state"}, nil)})
	}
	return m
}

type depthCollector struct {
	fn   func() map[string]int
	desc *prometheus.Desc
}

func (d *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d *depthCollector) Collect(ch chan<- prometheus.Metric) {
	for state, n := range d.fn() {
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, float64(n), state)
	}
}
