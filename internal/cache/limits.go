package cache

import (
	"errors"
	"fmt"
	"time"
)

// Bounds of Config.ChunkSize, the unit of range fills and of storage.
// The config file's chunk_size is checked against them too.
const (
	MinChunkSize = 4 << 10
	MaxChunkSize = 64 << 20
)

// CheckChunkSize reports whether n bytes can be a chunk size: from
// MinChunkSize to MaxChunkSize. The error says why without repeating n.
func CheckChunkSize(n int64) error {
	if n < MinChunkSize || n > MaxChunkSize {
		return fmt.Errorf("outside %dKiB to %dMiB", MinChunkSize>>10, MaxChunkSize>>20)
	}
	return nil
}

// A TTLError is a lifetime of a TTL that Check refuses: a negative one,
// or one more than the next (Min than Default, Default than Max).
type TTLError struct {
	Field string        // "Min", "Default" or "Max"
	Value time.Duration // the lifetime of Field
	// Than is the field Value is more than, "Default" or "Max"; "" when
	// Value is negative.
	Than      string
	ThanValue time.Duration
}

func (e *TTLError) Error() string {
	if e.Than == "" {
		return fmt.Sprintf("%s %v is negative", e.Field, e.Value)
	}
	return fmt.Sprintf("%s %v is more than %s %v", e.Field, e.Value, e.Than, e.ThanValue)
}

// Check reports whether t can bound lifetimes: none negative, and
// Min ≤ Default ≤ Max. It returns a *TTLError for each negative lifetime,
// in the order of t's fields, and for the first pair out of order, joined
// with errors.Join.
func (t TTL) Check() error {
	var errs []error
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"Default", t.Default}, {"Min", t.Min}, {"Max", t.Max}} {
		if f.d < 0 {
			errs = append(errs, &TTLError{Field: f.name, Value: f.d})
		}
	}
	switch {
	case t.Min > t.Default:
		errs = append(errs, &TTLError{Field: "Min", Value: t.Min, Than: "Default", ThanValue: t.Default})
	case t.Default > t.Max:
		errs = append(errs, &TTLError{Field: "Default", Value: t.Default, Than: "Max", ThanValue: t.Max})
	}
	return errors.Join(errs...)
}
