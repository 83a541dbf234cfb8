// Package tiktoksim is the TikTok Shop simulator of the sandbox: one
// http.Handler that serves the real API paths (order, cancellation, product,
// inventory, warehouse and webhook endpoints of the 202309 family, the
// authorisation and token paths) with TikTok's envelope, checks and error
// codes, and a control API under /_sim/ that a test, the demo or a rehearsal
// uses to create listings, play buyers and read back what the service did.
//
// It is strict on purpose (DESIGN.md, "The sandbox contract"): what the real
// API rejects, it rejects with the real code; a request it cannot interpret
// (an unknown body field, a page token that does not decode) is an error,
// never a default answer. Facts come from shared/reference/tiktok-shop-api.md;
// where the reference is silent the choice is written next to the code.
//
// State lives in memory behind one mutex: the simulator is a test double, so
// simplicity beats throughput. Everything random (ids, names, addresses, the
// demo orders) comes from PCG generators seeded by Options.Seed, so two
// servers with the same options produce the same data; only time stamps
// (Options.Now) differ.
package tiktoksim
