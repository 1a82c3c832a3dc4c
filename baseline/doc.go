// Package baseline keeps each sender's usual behaviour — messages per
// hour, external recipients and attachment bytes to the outside per day,
// the hours of the day they send at — so that the policy can notice a
// sender who suddenly behaves unlike themselves (sender.unusual_hour(),
// sender.volume_ratio(), sender.first_external_attachment()).
//
// One small Record per sender (about 300 bytes), updated at acceptance in
// memory by a Tracker and merged into its Store in one transaction every
// few seconds and at shutdown, so the added cost per message is a map
// update, not a disk write. A crash loses at most the last unflushed
// interval of observations: baselines are statistics, not state. Nodes
// sharing a PostgreSQL store merge their own observations under the row
// lock (baselinepg), so every observation counts once, in flush order.
//
// Counters roll and decay so a record never grows: the hours of the day
// are counts decayed with a 30-day half-life; per-hour and per-day figures
// are averages over the hours and days in which the sender sent mail,
// each older one weighing 5% (hours) or 1/14 (days) less. Days and hours
// are those of the company's time zone.
//
// Invariants: Lookup never changes a record; what it reports is the
// baseline before the message. A record is established (its signals can
// flag anything) after MinDays distinct days and MinMessages messages.
package baseline
