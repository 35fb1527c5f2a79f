package signapi

import (
	"container/list"
	"sync"

	"github.com/signet-dev/signet/internal/cfsign"
)

// signedLinks is the signed-link cache of a distribution with a Quantum: a
// bounded map from what was signed to the link, evicting the least recently
// used entry, so that repeated requests in one quantisation bucket get the
// same link without signing again. (It is neither the edge cache, package
// cache, nor cfsign's verified-link cache.) Its methods may be called
// concurrently.
//
// Keys hold the kind (URL or cookies), key id, hash, URL and exact policy
// bytes, so an entry names immutable data: the policy carries the expiry,
// and a request in a later quantisation bucket has another key. Old entries
// are never hit again and age out.
type signedLinks struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used; values are *signedLink
	items map[string]*list.Element
}

// signedLink is one entry of signedLinks.
type signedLink struct {
	key  string
	link cfsign.Link
}

func newSignedLinks(max int) *signedLinks {
	return &signedLinks{max: max, order: list.New(), items: make(map[string]*list.Element, max)}
}

// get returns the link cached under key.
func (c *signedLinks) get(key string) (cfsign.Link, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return cfsign.Link{}, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*signedLink).link, true
}

// add stores link under key unless the key is already there, and returns
// what the cache now holds for key: when two requests sign the same link
// at once, both answer with the first result (ECDSA signatures differ
// from one signing to the next), so later requests converge on one link.
func (c *signedLinks) add(key string, link cfsign.Link) cfsign.Link {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*signedLink).link
	}
	c.items[key] = c.order.PushFront(&signedLink{key: key, link: link})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*signedLink).key)
	}
	return link
}
