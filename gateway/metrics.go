package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are sendguard's Prometheus metrics. They live in a registry the
// caller owns (never the global one), so tests can run side by side.
type Metrics struct {
	received     prometheus.Counter
	receivedSize prometheus.Counter
	rejected     *prometheus.CounterVec
	actions      *prometheus.CounterVec
	shadow       *prometheus.CounterVec
	delivered    prometheus.Counter
	deferred     prometheus.Counter
	bounced      prometheus.Counter
	dsnSent      prometheus.Counter
	connections  prometheus.Gauge
	authFailures prometheus.Counter
	deliveryLat  prometheus.Histogram
	acceptLat    prometheus.Histogram
}

// NewMetrics registers the metrics in reg. depth reports the queue depth
// by state when scraped.
func NewMetrics(reg prometheus.Registerer, depth func() map[string]int) *Metrics {
	m := &Metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_received_total",
			Help: "Messages accepted with 250."}),
		receivedSize: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_received_bytes_total",
			Help: "Bytes of messages accepted."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sendguard_rejected_total",
			Help: "Messages or connections refused, by reason."}, []string{"reason"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sendguard_policy_actions_total",
			Help: "Policy actions applied on acceptance."}, []string{"action"}),
		shadow: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sendguard_shadow_matches_total",
			Help: "Matches of rules in mode: shadow on accepted or rejected messages (not enforced)."}, []string{"rule"}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_delivered_total",
			Help: "Recipients delivered to the next hop."}),
		deferred: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_deferred_total",
			Help: "Delivery attempts that failed temporarily (per recipient)."}),
		bounced: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_bounced_total",
			Help: "Recipients that failed permanently or expired."}),
		dsnSent: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_dsn_generated_total",
			Help: "Delivery status notifications generated."}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "sendguard_smtp_connections",
			Help: "Open inbound SMTP connections."}),
		authFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "sendguard_smtp_auth_failures_total",
			Help: "Failed SMTP AUTH attempts."}),
		deliveryLat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sendguard_delivery_latency_seconds",
			Help:    "Time from acceptance to delivery of the last recipient.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400}}),
		acceptLat: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "sendguard_accept_latency_seconds",
			Help:    "Time from end of DATA to the 250 reply (inspection plus durable spool).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
	}
	reg.MustRegister(m.received, m.receivedSize, m.rejected, m.actions, m.shadow, m.delivered, m.deferred,
		m.bounced, m.dsnSent, m.connections, m.authFailures, m.deliveryLat, m.acceptLat)
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
