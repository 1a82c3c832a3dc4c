// Package adminapi serves the admin API on the Unix socket in data_dir:
// the queue and hold operations of the sendguard CLI, user management,
// reload and profiles. Refusals say the message's real state in words.
package adminapi
