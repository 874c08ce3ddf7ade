module example.com/e2e

go 1.26.0

tool github.com/dbosgen/dbosgen/cmd/dbosgen

require github.com/dbosgen/dbosgen v0.0.0

// TestEndToEnd (cmd/dbosgen) copies this module to a temporary directory
// and adds: replace github.com/dbosgen/dbosgen => <repository root>
