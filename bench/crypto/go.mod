module github.com/signet-dev/signet/bench/crypto

go 1.26.0

require github.com/signet-dev/signet v0.0.0-00010101000000-000000000000

replace github.com/signet-dev/signet => ../..
