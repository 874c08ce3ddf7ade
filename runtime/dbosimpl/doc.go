// Package dbosimpl is what the code dbosgen generates calls: registration
// of annotated functions, the byte-level enqueue, start, run, retrieve and fork
// behind the typed functions, the codecs of inputs and outputs, and the
// untyped handle that typed handles wrap. It is kept out of package dbos so
// that the user's go doc shows only the user's API, the way protobuf keeps
// protoimpl apart; programs do not call it themselves. Its API may change
// with every release of dbosgen, together with the generator.
package dbosimpl
