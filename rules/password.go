package rules

// PasswordDelivery says how the recipient of an encrypted zip learns its
// password: the policy's encrypt_password, the rewrite's note and the
// password notice all use these values.
type PasswordDelivery string

// Password delivery modes.
const (
	// PasswordSender: the sender tells the recipient by another channel.
	PasswordSender PasswordDelivery = "sender"
	// PasswordRecipient: a separate mail with the password follows.
	PasswordRecipient PasswordDelivery = "recipient"
	// PasswordPreset: the password agreed in advance with the recipient's
	// organisation.
	PasswordPreset PasswordDelivery = "preset"
)
