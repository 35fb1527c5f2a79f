package signapi

import (
	"container/list"
	"sync"

	"github.com/signet-dev/signet/internal/cfsign"
)

// signed is one signing result: a URL, or cookies.
type signed struct {
	url     string
	cookies []cfsign.Cookie
}

// lru is a bounded map from a cache key to a signing result, evicting the
// least recently used entry. Its methods may be called concurrently.
//
// Keys hold the distribution, key id, hash, kind, URL and exact policy
// bytes, so an entry names immutable data: the policy carries the expiry,
// and a request in a later quantisation bucket has another key. Old entries
// are never hit again and age out.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used; values are *entry
	items map[string]*list.Element
}

type entry struct {
	key string
	val signed
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[string]*list.Element, max)}
}

// get returns the result cached under key.
func (c *lru) get(key string) (signed, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return signed{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry).val, true
}

// add stores val under key unless the key is already there, and returns
// what the cache now holds for key: when two requests sign the same link
// at once, both answer with the first result (ECDSA signatures differ
// from one signing to the next), so later requests converge on one link.
func (c *lru) add(key string, val signed) signed {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry).val
	}
	c.items[key] = c.order.PushFront(&entry{key: key, val: val})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*entry).key)
	}
	return val
}
