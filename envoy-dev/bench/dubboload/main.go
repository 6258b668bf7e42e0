// dubboload: the load generator and upstream for the real-Envoy benchmark (npm run bench).
// One process holds both, so that on a 2-core machine Envoy (one worker) gets one core and the
// load side the other; `-direct` runs the same load against the responder with no proxy, which
// shows the ceiling of the load side itself.
//
//	dubboload -conns 16 -window 16 -duration 3s -frame <hex> -target 127.0.0.1:20880 -respond 127.0.0.1:0
//
// It prints the responder's address on stderr first ("responder 127.0.0.1:PORT"), waits for a
// line on stdin when -wait is set (so the proxy can start pointing at it), then runs and prints
// one JSON line: requests, seconds, rps, p50/p99 latency in microseconds, its own CPU seconds.
//
// With -rate R the load is open-loop instead: every connection sends one request at a time on
// a fixed schedule (R requests/s in all, spread over the connections), whatever the answers do.
// Far below saturation nothing queues, so the latency is the path's own (a saturated run's
// latency is mostly time spent waiting behind the window).
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const headerLen = 16

// A Dubbo response: status 20 (OK), Hessian body [1 (RESPONSE_VALUE), "ok"].
var responseBody = []byte{0x91, 0x02, 'o', 'k'}

func respond(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}

func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	w := bufio.NewWriterSize(c, 64<<10)
	hdr := make([]byte, headerLen)
	out := make([]byte, headerLen+len(responseBody))
	copy(out[headerLen:], responseBody)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[12:16])
		if _, err := r.Discard(int(n)); err != nil {
			return
		}
		if hdr[2]&0x40 == 0 { // not two-way: no answer
			continue
		}
		out[0], out[1] = 0xda, 0xbb
		out[2] = hdr[2]&0x20 | 0x02 // keep the event bit, Hessian2 serialization
		out[3] = 20
		copy(out[4:12], hdr[4:12])
		binary.BigEndian.PutUint32(out[12:16], uint32(len(responseBody)))
		if _, err := w.Write(out); err != nil {
			return
		}
		if r.Buffered() == 0 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
}

type result struct {
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	Seconds   float64 `json:"seconds"`
	RPS       float64 `json:"rps"`
	P50us     float64 `json:"p50us"`
	P99us     float64 `json:"p99us"`
	CPUSecond float64 `json:"cpuSeconds"`
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// drive keeps `window` requests in flight on one connection until `stop`, recording latencies.
func drive(target string, frame []byte, window int, stop, measuring *atomic.Bool, lat *[]int64, mu *sync.Mutex, done, errs *atomic.Int64) error {
	c, err := net.Dial("tcp", target)
	if err != nil {
		return err
	}
	defer c.Close()
	// Send time per request id: a proxy may answer out of order (Dubbo clients match by id).
	sent := make(map[uint64]int64, window*2)
	var id uint64
	buf := make([]byte, 0, len(frame)*window)
	send := func(n int) error {
		buf = buf[:0]
		now := time.Now().UnixNano()
		for i := 0; i < n; i++ {
			id++
			start := len(buf)
			buf = append(buf, frame...)
			binary.BigEndian.PutUint64(buf[start+4:start+12], id)
			sent[id] = now
		}
		_, err := c.Write(buf)
		return err
	}
	if err := send(window); err != nil {
		return err
	}
	r := bufio.NewReaderSize(c, 64<<10)
	hdr := make([]byte, headerLen)
	local := make([]int64, 0, 1<<16)
	for !stop.Load() {
		got := 0
		for {
			if _, err := io.ReadFull(r, hdr); err != nil {
				return err
			}
			n := binary.BigEndian.Uint32(hdr[12:16])
			if _, err := r.Discard(int(n)); err != nil {
				return err
			}
			rid := binary.BigEndian.Uint64(hdr[4:12])
			at, ok := sent[rid]
			if hdr[3] != 20 || !ok {
				errs.Add(1)
			}
			if ok && measuring.Load() {
				local = append(local, time.Now().UnixNano()-at)
			}
			delete(sent, rid)
			got++
			if r.Buffered() < headerLen {
				break
			}
		}
		done.Add(int64(got))
		if err := send(got); err != nil {
			return err
		}
	}
	mu.Lock()
	*lat = append(*lat, local...)
	mu.Unlock()
	return nil
}

// paced sends one request every `interval` on one connection (open loop) and records each
// answer's latency from the moment its request was written.
func paced(target string, frame []byte, interval time.Duration, stop, measuring *atomic.Bool, lat *[]int64, mu *sync.Mutex, done, errs *atomic.Int64) error {
	c, err := net.Dial("tcp", target)
	if err != nil {
		return err
	}
	var smu sync.Mutex
	sent := make(map[uint64]int64, 64)
	local := make([]int64, 0, 1<<14)
	readDone := make(chan error, 1)
	go func() {
		r := bufio.NewReaderSize(c, 64<<10)
		hdr := make([]byte, headerLen)
		for {
			if _, err := io.ReadFull(r, hdr); err != nil {
				readDone <- err
				return
			}
			now := time.Now().UnixNano()
			if _, err := r.Discard(int(binary.BigEndian.Uint32(hdr[12:16]))); err != nil {
				readDone <- err
				return
			}
			rid := binary.BigEndian.Uint64(hdr[4:12])
			smu.Lock()
			at, ok := sent[rid]
			delete(sent, rid)
			smu.Unlock()
			if hdr[3] != 20 || !ok {
				errs.Add(1)
			}
			if ok && measuring.Load() {
				local = append(local, now-at)
			}
			done.Add(1)
		}
	}()
	buf := append([]byte(nil), frame...)
	var id uint64
	// Connections start spread over one interval, so their sends do not line up.
	next := time.Now().Add(time.Duration(time.Now().UnixNano() % int64(interval)))
	var werr error
	for !stop.Load() {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(interval)
		id++
		binary.BigEndian.PutUint64(buf[4:12], id)
		smu.Lock()
		sent[id] = time.Now().UnixNano()
		smu.Unlock()
		if _, werr = c.Write(buf); werr != nil {
			break
		}
	}
	time.Sleep(20 * time.Millisecond) // the last answers
	c.Close()
	<-readDone
	mu.Lock()
	*lat = append(*lat, local...)
	mu.Unlock()
	if stop.Load() {
		return nil
	}
	return werr
}

func main() {
	target := flag.String("target", "", "proxy address to load (empty: -direct)")
	respondOn := flag.String("respond", "127.0.0.1:0", "responder listen address")
	direct := flag.Bool("direct", false, "load the responder itself (no proxy)")
	wait := flag.Bool("wait", false, "wait for a line on stdin before the load")
	conns := flag.Int("conns", 16, "connections")
	window := flag.Int("window", 16, "requests in flight per connection")
	duration := flag.Duration("duration", 3*time.Second, "how long to load")
	warmup := flag.Duration("warmup", time.Second, "load before measuring")
	frameHex := flag.String("frame", "", "one Dubbo request frame, hex")
	rate := flag.Float64("rate", 0, "open loop: requests per second in all, one at a time per connection on a fixed schedule (0: closed loop with -window)")
	flag.Parse()

	frame, err := hex.DecodeString(*frameHex)
	if err != nil || len(frame) < headerLen {
		fmt.Fprintln(os.Stderr, "dubboload: -frame must be a Dubbo request frame in hex")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", *respondOn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dubboload:", err)
		os.Exit(1)
	}
	go respond(ln)
	fmt.Fprintf(os.Stderr, "responder %s\n", ln.Addr())
	if *wait {
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	to := *target
	if *direct || to == "" {
		to = ln.Addr().String()
	}

	var stop, measuring atomic.Bool
	var done, errs atomic.Int64
	var mu sync.Mutex
	lat := []int64{}
	var wg sync.WaitGroup
	failures := make(chan error, *conns)
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if *rate > 0 {
				err = paced(to, frame, time.Duration(float64(*conns)*1e9 / *rate), &stop, &measuring, &lat, &mu, &done, &errs)
			} else {
				err = drive(to, frame, *window, &stop, &measuring, &lat, &mu, &done, &errs)
			}
			if err != nil && !stop.Load() {
				failures <- err
			}
		}()
	}
	time.Sleep(*warmup)
	measuring.Store(true)
	startCount, startCPU, start := done.Load(), cpuSeconds(), time.Now()
	select {
	case err := <-failures:
		fmt.Fprintln(os.Stderr, "dubboload:", err)
		os.Exit(1)
	case <-time.After(*duration):
	}
	count, secs, cpu := done.Load()-startCount, time.Since(start).Seconds(), cpuSeconds()-startCPU
	stop.Store(true)
	wg.Wait()
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))]) / 1e3
	}
	json.NewEncoder(os.Stdout).Encode(result{Requests: count, Errors: errs.Load(), Seconds: secs, RPS: float64(count) / secs,
		P50us: pct(0.50), P99us: pct(0.99), CPUSecond: cpu})
}
