// Package rules inspects an outbound message and decides what happens to it.
//
// It is pure: no network, no spool, no clock except where a caller passes one.
// Analysis produces a Report (recipients, findings, attachment facts, errors);
// the policy (rules/policy) turns a Report into a Decision. An unreadable part
// is never a failure of the analysis: it becomes an "unscannable" finding that
// the policy can act on.
//
// Sub-packages:
//   - rules/detect: PII and keyword detectors over UTF-8 text.
//   - rules/extract: streaming MIME walk and text extraction from every part
//     and attachment (charsets, OOXML, PDF, zip, message/rfc822), with limits.
//   - rules/recipients: To/Cc/Bcc analysis, internal/external, look-alikes.
//   - rules/address: the envelope address parser shared with the gateway's
//     SMTP session and outbound routing.
//   - rules/policy: ordered policy rules (CEL conditions) over a Report.
//   - rules/edm: exact data match against the company's own records (keyed hashes).
//   - rules/addressee: the company a text is addressed to vs the recipients' domains.
package rules

// Action names are part of the `check -json` contract.
const (
	ActionDeliver      = "deliver"
	ActionReject       = "reject"
	ActionHoldSender   = "hold_sender"
	ActionHoldApprover = "hold_approver"
	ActionHoldReview   = "hold_review"
	ActionDelay        = "delay"
	ActionBcc          = "bcc"
	ActionEncrypt      = "encrypt"
	ActionLink         = "link"
)

// DetectorUnscannable names the finding recorded for a part that could not be
// read (encrypted, corrupt, over a limit, unsupported format).
const DetectorUnscannable = "unscannable"

// DetectorTruncated names the finding recorded for a part whose text was
// longer than the scan limit: only its beginning was inspected.
const DetectorTruncated = "truncated"

// DataItemMyNumber is the data item (Report.DataItems) that makes any
// leak reportable to the PPC, whatever the number of people.
const DataItemMyNumber = "マイナンバー"

// Report is the result of analysing one message. Its JSON form is the
// `sendguard check -json` contract (see design.md); fields added here must
// keep the existing names.
type Report struct {
	Recipients  Recipients   `json:"recipients"`
	Findings    []Finding    `json:"findings"`
	Attachments []Attachment `json:"attachments"`
	// Errors are problems met while reading the message (broken addresses,
	// malformed MIME, undecodable charsets). They never stop the analysis.
	Errors []string `json:"errors"`
	// AttachmentsHashed says the top-level attachments with a SHA256 are,
	// in order, every part of the message's MIME tree (outside attached
	// messages) that names a file, with the name, declared type, size and
	// hash a standard MIME reader (go-message) gives it: the sent record
	// takes them instead of reading the message again. Unset when the
	// analysis could not vouch for that (old reports too).
	AttachmentsHashed bool `json:"attachments_hashed,omitempty"`

	Subject string `json:"subject,omitempty"`
	From    string `json:"from,omitempty"`   // header From address, lower-cased
	Sender  string `json:"sender,omitempty"` // envelope MAIL FROM
	Size    int64  `json:"size"`             // message size in bytes
	// People is the estimated number of distinct people whose personal
	// data the message carries (table records and list lines,
	// de-duplicated by My Number, e-mail, phone and other identifiers, and
	// name + address); PeopleApproximate is set past 4,096, where the
	// figure is a HyperLogLog estimate (≈0.8 % standard error).
	People            int  `json:"people"`
	PeopleApproximate bool `json:"people_approximate,omitempty"`
	// DataItems names the kinds of personal data found, in the words of
	// the PPC report form (氏名, 住所, 電話番号, メールアドレス, …).
	DataItems []string `json:"data_items"`
	// SenderDirectory is what the company directory says of the envelope
	// sender, filled by the gateway before the policy runs; nil when no
	// directory is configured.
	SenderDirectory *SenderDirectory `json:"sender_directory,omitempty"`
	// SenderBehaviour is what the sender's baseline said before this
	// message, filled by the gateway before the policy runs; nil without
	// baselines (an offline check).
	SenderBehaviour *SenderBehaviour `json:"sender_behaviour,omitempty"`
	// PartnerNames are companies the body's quoted messages show with an
	// external recipient's domain (signatures); delivered mail teaches
	// them to the addressee check.
	PartnerNames []PartnerName `json:"partner_names,omitempty"`
}

// SenderBehaviour is the sender's usual behaviour as the baseline knew it
// just before the message (package baseline computes it; the policy's
// sender.unusual_hour(), sender.volume_ratio() and
// sender.first_external_attachment() read it with the report). "Today"
// and "this hour" are in the company's time zone; averages are per day or
// hour in which the sender sent mail, recent ones weighing more.
type SenderBehaviour struct {
	// Days is how many distinct days the baseline has seen mail from the
	// sender, Messages how many messages (both capped); Established says
	// there is enough history to judge by.
	Days        int  `json:"days"`
	Messages    int  `json:"messages"`
	Established bool `json:"established"`
	// Hour is the message's hour of the day; HourShare the share of the
	// sender's past messages sent within an hour of it (0..1).
	Hour      int     `json:"hour"`
	HourShare float64 `json:"hour_share"`
	// HourMessages were sent earlier in this clock hour; PerHour is the
	// usual count per hour in which the sender sends.
	HourMessages int     `json:"hour_messages"`
	PerHour      float64 `json:"per_hour"`
	// DayExternal external recipients and DayAttachmentBytes attachment
	// bytes in mail to external recipients, earlier today; PerDay* usual.
	DayExternal           int     `json:"day_external"`
	PerDayExternal        float64 `json:"per_day_external"`
	DayAttachmentBytes    int64   `json:"day_attachment_bytes"`
	PerDayAttachmentBytes float64 `json:"per_day_attachment_bytes"`
	// ExternalAttachments counts earlier messages with an attachment and
	// an external recipient (capped).
	ExternalAttachments int `json:"external_attachments"`
}

// PartnerName is a company name seen with a mail domain.
type PartnerName struct {
	Domain string `json:"domain"`
	Name   string `json:"name"`
}

// SenderDirectory is the directory entry of the sender as the policy sees it
// (sender.department, sender.groups, sender.manager, sender.directory).
type SenderDirectory struct {
	// Status is "found", "not_found" (no entry has this address) or
	// "unavailable" (the directory did not answer and nothing is cached).
	Status     string   `json:"status"`
	Department string   `json:"department,omitempty"`
	Groups     []string `json:"groups,omitempty"`  // names, nested groups included
	Manager    string   `json:"manager,omitempty"` // the manager's address
	// Allowances are the sender's per-group allowances by name (the
	// largest of their groups'), read by allowance(name, default).
	Allowances map[string]int `json:"allowances,omitempty"`
}

// Recipients summarises who receives the message and how visibly.
type Recipients struct {
	Total                  int         `json:"total"`
	External               int         `json:"external"`
	VisibleExternal        int         `json:"visible_external"`
	VisibleExternalDomains []string    `json:"visible_external_domains"`
	ExternalDomains        []string    `json:"external_domains"`
	Lookalike              []Lookalike `json:"lookalike"`
	// FirstTimeDomains are external domains this organisation has never
	// delivered to before.
	FirstTimeDomains []string    `json:"first_time_domains"`
	List             []Recipient `json:"list"`
}

// Recipient is one envelope or header recipient.
type Recipient struct {
	Address  string `json:"address"`        // lower-cased domain, punycode
	Name     string `json:"name,omitempty"` // decoded display name
	Field    string `json:"field"`          // "to", "cc" or "bcc" (envelope only)
	Domain   string `json:"domain"`
	External bool   `json:"external"`
	// Envelope is true when the address is an envelope recipient; header-only
	// addresses (in To/Cc but not RCPT TO) are listed with Envelope false.
	Envelope bool `json:"envelope"`
}

// Lookalike is an external domain that resembles an internal or partner one.
type Lookalike struct {
	Address   string `json:"address"`
	Resembles string `json:"resembles"`
	Reason    string `json:"reason,omitempty"` // e.g. "homoglyph rn/m", "tld swap"
}

// Finding is what one detector found in one location.
type Finding struct {
	Detector string `json:"detector"`
	// Count is the number of distinct values found in this location.
	Count int `json:"count"`
	// Records is, for tabular data, the number of rows carrying personal data.
	Records int `json:"records,omitempty"`
	// Location is "body", "subject", "filename:NAME[/INNER...]" (the name
	// itself matched) or "attachment:NAME[/INNER...]".
	Location string   `json:"location"`
	Samples  []string `json:"samples"` // masked, at most a few
	// Values are the distinct raw values; only `check -reveal` prints them.
	Values []string `json:"values,omitempty"`
	// Dictionary and Level name the keyword dictionary that matched
	// (keyword findings only); policies ask finding("keyword:LEVEL").
	Dictionary string `json:"dictionary,omitempty"`
	Level      string `json:"level,omitempty"`
	// Reason explains an unscannable finding ("encrypted zip", "zip bomb: ratio").
	Reason string `json:"reason,omitempty"`
	// Why says what made the detector report: check digit, context word and
	// its distance, column header, a list of valid values. Never a value.
	Why []string `json:"why,omitempty"`
	// Confidence is "high" or "medium" (see detect.Hit).
	Confidence string `json:"confidence,omitempty"`
}

// Attachment describes one part that is not a message body, nested ones
// (inside zips or attached messages) included.
type Attachment struct {
	Name         string `json:"name"`          // decoded file name
	Location     string `json:"location"`      // as in Finding.Location
	Type         string `json:"type"`          // sniffed MIME type
	DeclaredType string `json:"declared_type"` // Content-Type as sent
	Size         int64  `json:"size"`          // decoded size in bytes
	Encrypted    bool   `json:"encrypted"`
	Depth        int    `json:"depth"` // 0 for a top-level attachment
	Executable   bool   `json:"executable,omitempty"`
	Archive      bool   `json:"archive,omitempty"`
	Unscannable  string `json:"unscannable,omitempty"` // reason, if not read
	// SHA256 (hex) of the decoded file, for a top-level attachment that
	// names a file and was read whole with an exact decoding (see
	// Report.AttachmentsHashed); empty for any other.
	SHA256 string `json:"sha256,omitempty"`
}
