// Package delivery runs the delivery queue: it hands queued messages to a
// Transport (the outbound client, or the outbox directory), records each
// recipient's result and retry, and spools bounces and delay notices.
package delivery
