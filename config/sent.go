package config

import "time"

// Sent configures the sent-mail record: what sendguard remembers of each
// delivered message (envelope, header summary, masked findings, people
// affected, attachment hashes, decision; never the body) for the incident
// kit and `sendguard sent find`.
type Sent struct {
	// Retention keeps each delivered message's record this long, then
	// purges it (audited); 0 keeps none.
	Retention time.Duration `yaml:"retention"`
	// ConfirmExpireAfter is how long a recipient's deletion-confirm link
	// works.
	ConfirmExpireAfter time.Duration `yaml:"confirm_expire_after"`
	// ReportWindow, when set, sends the sender of each delivered mail a
	// receipt whose link reports it as sent in error (「誤送信を報告」)
	// within this window; 0 sends none.
	ReportWindow time.Duration `yaml:"report_window"`
	// KeepBody keeps each delivered message itself, encrypted at rest
	// (data_dir/sent, key data_dir/sent.key), for the same retention;
	// only an admin can download it.
	KeepBody bool `yaml:"keep_body"`
}
