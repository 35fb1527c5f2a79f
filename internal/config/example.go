package config

import _ "embed" // for example.yaml

//go:embed example.yaml
var example string

// Example returns a complete, commented config that passes Validate: every
// key appears in it, live or as a comment. `signet config example` prints
// it.
func Example() string { return example }
