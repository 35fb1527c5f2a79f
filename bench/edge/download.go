package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// downloadResult is the answer of the download subcommand.
type downloadResult struct {
	Bytes   int64   // body bytes received
	Seconds float64 // from sending the request to the last byte
}

// runDownload is the download subcommand: one GET over a fresh connection,
// the body discarded in the kernel (recv with MSG_TRUNC, so it is never
// copied to user space). A client that copied every byte, as curl does,
// would spend more CPU than nginx's sendfile and so measure itself rather
// than the server. Anything but a 200 with -size bytes is an error.
func runDownload(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flagSet("download", stderr)
	addr := fset.String("addr", "", "the server, host:port")
	h := fset.String("host", "", "the Host header")
	target := fset.String("target", "", "the request target")
	size := fset.Int64("size", 0, "the body's size")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	res, err := download(ctx, *addr, *h, *target, *size)
	if err != nil {
		fmt.Fprintf(stderr, "download %s: %v\n", redact(*target), err)
		return 1
	}
	return writeJSON(stdout, stderr, res)
}

func download(ctx context.Context, addr, hostHeader, target string, size int64) (downloadResult, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return downloadResult{}, err
	}
	defer c.Close()
	conn := c.(*net.TCPConn)
	start := time.Now()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: edgebench\r\nConnection: close\r\n\r\n", target, hostHeader); err != nil {
		return downloadResult{}, err
	}
	// The header, read byte by byte so that no body byte is buffered.
	br := bufio.NewReaderSize(oneByte{conn}, 16)
	status, err := br.ReadString('\n')
	if err != nil {
		return downloadResult{}, fmt.Errorf("read status: %w", err)
	}
	if !strings.HasPrefix(status, "HTTP/1.1 200 ") {
		return downloadResult{}, fmt.Errorf("status %q; want 200", strings.TrimSpace(status))
	}
	length := int64(-1)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return downloadResult{}, fmt.Errorf("read header: %w", err)
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if length != size {
		return downloadResult{}, fmt.Errorf("Content-Length %d; want %d", length, size)
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return downloadResult{}, err
	}
	var got int64
	// Never written: with MSG_TRUNC, TCP discards up to len(buf) bytes and
	// reports how many.
	buf := make([]byte, 1<<20)
	for got < size {
		var n int
		var rerr error
		err := raw.Read(func(fd uintptr) bool {
			n, _, rerr = syscall.Recvfrom(int(fd), buf[:min(size-got, int64(len(buf)))], syscall.MSG_TRUNC)
			return !errors.Is(rerr, syscall.EAGAIN)
		})
		if err == nil {
			err = rerr
		}
		if err != nil {
			return downloadResult{}, fmt.Errorf("after %d of %d bytes: %w", got, size, err)
		}
		if n == 0 {
			return downloadResult{}, fmt.Errorf("connection closed after %d of %d bytes", got, size)
		}
		got += int64(n)
	}
	return downloadResult{Bytes: got, Seconds: time.Since(start).Seconds()}, nil
}

// oneByte reads at most one byte at a time.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 1)]) }
