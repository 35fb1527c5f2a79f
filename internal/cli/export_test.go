package cli

// InternalPrefix is internalPrefix, for the black-box tests' check that no
// error a user sees carries one.
var InternalPrefix = internalPrefix
