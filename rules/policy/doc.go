// Package policy turns an analysis report (rules.Report) into a decision:
// which actions sendguard takes on a message, which rules asked for them and
// why, in Japanese and English.
//
// A policy is a YAML file of ordered rules:
//
//	version: 1
//	rules:
//	  - name: pii-external
//	    when: recipients.external > 0 && finding("mynumber") > 0
//	    actions: [hold_review]
//	    continue: false
//	    reason: {ja: "…", en: "…"}
//	    params: {approvers: [boss@example.com]}
//
// `when` is a CEL expression over the report, type-checked when the policy is
// loaded. Its variables are recipients (rules.Recipients), findings
// (list of rules.Finding), attachments (list of rules.Attachment), errors
// (list of string), subject, from, sender (strings, from and sender
// lower-cased) and size (int); the sender's directory entry as
// sender.department, sender.groups (list of string, nested groups
// included: "経理部" in sender.groups), sender.manager and sender.directory
// ("found", "not_found", "unavailable", or "" with no directory); fields use their JSON names
// (recipients.visible_external, a.declared_type). Helper functions:
//
//	finding(name)             distinct values a detector found, over all locations;
//	                          name is a detector ("mynumber", "keyword"), a custom
//	                          pattern ("pattern:project_code", or "pattern" for all)
//	                          or "keyword:X", the keywords of dictionary or level X
//	finding(name, prefix)     the same, only in locations starting with prefix
//	                          ("attachment:", "subject", "filename:", "body")
//	records()                 rows carrying personal data, summed over locations
//	                          (the largest count per location)
//	max_records()             the largest row count of any one finding
//	people()                  estimated distinct people whose personal data the
//	                          message carries (people() >= 1000: PPC report scale);
//	                          data_items lists the kinds ("マイナンバー" in data_items)
//	has_attachment()          whether the message has any attachment
//	has_attachment(ext)       whether an attachment name ends in ext (".xlsx"),
//	                          case-insensitively
//	unscannable()             parts that could not be read (distinct locations)
//	allowance(name, default)  the sender's group allowance (config allowances), else default
//
// Sender behaviour, from the sender's baseline before this message
// (rules.SenderBehaviour, kept by package baseline; days and hours in the
// company's time zone). Without a baseline (offline check) or before it is
// established (5 days and 20 messages of history) they answer false or
// 0.0, so too little history never flags anyone:
//
//	sender.unusual_hour()     fewer than 5% of the sender's past messages
//	                          (30-day half-life) were sent within an hour of
//	                          this message's hour of the day
//	sender.volume_ratio()     messages this clock hour, this one included,
//	                          over the usual per hour in which they send
//	sender.volume_ratio(kind) kind "messages" (as above),
//	                          "external_recipients" (today's, this message's
//	                          included, over the usual per day with mail) or
//	                          "external_attachment_bytes" (today's
//	                          attachment bytes in mail with an external
//	                          recipient, over the usual); the usual is at
//	                          least 1 message, 1 recipient or 1 MiB; an
//	                          unknown kind is refused at load (a computed one
//	                          fails at run time)
//	sender.first_external_attachment()
//	                          the message has an attachment and an external
//	                          recipient, and the sender never sent one before
//	sender.history_days()     distinct days the baseline has seen (0: none)
//
// plus the CEL standard library, its string extensions and sets.
//
// Semantics, in this order:
//
//  1. Rules are tried in file order. A matching rule marked `continue`
//     contributes its actions and evaluation goes on; the first matching rule
//     not marked `continue` contributes its actions and ends evaluation.
//     Rules that do not match contribute nothing. If no rule matches the
//     decision is [deliver].
//  2. A rule whose condition fails at run time (an index out of range, say)
//     counts as matched: a policy mistake holds mail rather than letting it
//     out. The failure is listed in Decision.Errors.
//  3. Contributed actions are combined: reject overrides everything; of the
//     hold kinds only the strongest stays (hold_review > hold_approver >
//     hold_sender > delay); of encrypt and link the one contributed first
//     stays; deliver stays only when nothing else does. Actions are listed
//     in the fixed order reject, hold_review, hold_approver, hold_sender,
//     delay, bcc, encrypt, link, deliver.
//  4. Params follow their action: delay_minutes and encrypt_password come
//     from the rule that contributed the surviving delay or encrypt action
//     (encrypt_password defaults to "sender"); approvers are the union over
//     the rules that contributed hold_approver.
//  5. Decision.Rules and Decision.Reasons list every contributing rule in
//     order, including those whose actions were overridden.
//  6. A rule with `mode: shadow` (the default is `mode: enforce`) is tried
//     in its place but never contributes: when it matches, its name and
//     actions go to Decision.Shadow and evaluation goes on as if it had not
//     matched. A shadow rule whose condition fails at run time does not
//     count as matched (only its error is listed). This is how a team tries
//     a rule on live traffic before enforcing it.
//
// Load-time validation reports every problem at once, each with the YAML line
// and rule name: unknown keys, actions or params; reject combined with other
// actions; two hold kinds, encrypt with link, or deliver with anything in one
// rule; params without their action; a delay without delay_minutes; a reject
// without an English (SMTP-safe) reason; duplicate names; conditions that do
// not compile or are not boolean; rules made unreachable by an earlier rule
// whose condition is the literal true.
//
// A Policy is immutable and safe for concurrent use.
package policy
