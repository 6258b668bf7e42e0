// A Thrift peer on Apache Thrift's Go library (github.com/apache/thrift/lib/go): the demo
// Greeter service (envoy-dev/apps/thrift/demo.thrift) as a server and as a client, over framed,
// unframed (buffered) or THeader transports with the binary or compact protocol. The Greeter
// structs below are what `thrift --gen go` would generate for demo.thrift, written out so the
// peer builds from the module proxy alone; transports, protocols, the client (TStandardClient)
// and the server (TSimpleServer) are the library's own.
//
//	thrift-peer server -port N -label v1 -transport framed|buffered|header -protocol binary|compact
//	thrift-peer client -addr host:port -transport ... -protocol ...
//
// Both speak JSON lines on stdout (the server: one "call" line per request it served; the
// client: one reply per command read from stdin, e.g. {"id":1,"method":"add","args":[1,2]}).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
)

var out = json.NewEncoder(os.Stdout)
var outMu sync.Mutex

func emit(v map[string]any) {
	outMu.Lock()
	defer outMu.Unlock()
	_ = out.Encode(v)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: thrift-peer server|client [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	port := fs.Int("port", 0, "server: listen port on 127.0.0.1")
	label := fs.String("label", "go", "server: names it in every answer")
	addr := fs.String("addr", "", "client: server address")
	transport := fs.String("transport", "framed", "framed, buffered (unframed) or header")
	protocol := fs.String("protocol", "binary", "binary or compact")
	_ = fs.Parse(os.Args[2:])
	cfg := &thrift.TConfiguration{ConnectTimeout: 5 * time.Second, SocketTimeout: 30 * time.Second}
	if *protocol == "compact" {
		cfg.THeaderProtocolID = thrift.THeaderProtocolIDPtrMust(thrift.THeaderProtocolCompact)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = serve(*port, *label, *transport, *protocol, cfg)
	case "client":
		err = client(*addr, *transport, *protocol, cfg)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "thrift-peer:", err)
		os.Exit(1)
	}
}

// ---------------------------------------------------------------- stacks

func protocolFactory(transport, protocol string, cfg *thrift.TConfiguration) thrift.TProtocolFactory {
	if transport == "header" {
		return thrift.NewTHeaderProtocolFactoryConf(cfg)
	}
	if protocol == "compact" {
		return thrift.NewTCompactProtocolFactoryConf(cfg)
	}
	return thrift.NewTBinaryProtocolFactoryConf(cfg)
}

func transportFactory(transport string, cfg *thrift.TConfiguration) thrift.TTransportFactory {
	switch transport {
	case "framed":
		return thrift.NewTFramedTransportFactoryConf(thrift.NewTTransportFactory(), cfg)
	case "header":
		return thrift.NewTHeaderTransportFactoryConf(nil, cfg)
	default:
		return thrift.NewTBufferedTransportFactory(8192)
	}
}

// ---------------------------------------------------------------- server

func serve(port int, label, transport, protocol string, cfg *thrift.TConfiguration) error {
	sock, err := thrift.NewTServerSocket(fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	if err := sock.Listen(); err != nil {
		return err
	}
	srv := thrift.NewTSimpleServer4(&greeter{label: label}, sock, transportFactory(transport, cfg), protocolFactory(transport, protocol, cfg))
	emit(map[string]any{"event": "ready", "port": sock.Addr().(interface{ String() string }).String(), "label": label})
	go func() { // the test ends the server by closing stdin
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		os.Exit(0)
	}()
	return srv.Serve()
}

// greeter is the processor `thrift --gen go` makes for Greeter, calling the handler inline.
type greeter struct{ label string }

func (g *greeter) ProcessorMap() map[string]thrift.TProcessorFunction          { return nil }
func (g *greeter) AddToProcessorMap(string, thrift.TProcessorFunction)         {}
func (g *greeter) AddToProcessorMapIfAbsent(string, thrift.TProcessorFunction) {}

func (g *greeter) Process(ctx context.Context, in, outp thrift.TProtocol) (bool, thrift.TException) {
	name, _, seqID, err := in.ReadMessageBegin(ctx)
	if err != nil {
		return false, thrift.WrapTException(err)
	}
	var args argsStruct
	switch name {
	case "sayHello", "sayBye", "unknownToRouter":
		args.fields = []field{{1, thrift.STRING}}
	case "add":
		args.fields = []field{{1, thrift.I32}, {2, thrift.I32}}
	case "ping":
	default:
		_ = in.Skip(ctx, thrift.STRUCT)
		_ = in.ReadMessageEnd(ctx)
		x := thrift.NewTApplicationException(thrift.UNKNOWN_METHOD, "Unknown function "+name)
		return g.reply(ctx, outp, name, thrift.EXCEPTION, seqID, x, nil, "")
	}
	if err := args.Read(ctx, in); err != nil {
		return false, thrift.WrapTException(err)
	}
	if err := in.ReadMessageEnd(ctx); err != nil {
		return false, thrift.WrapTException(err)
	}
	headers := map[string]string{}
	for _, k := range thrift.GetReadHeaderList(ctx) {
		if v, ok := thrift.GetHeader(ctx, k); ok {
			headers[k] = v
		}
	}
	emit(map[string]any{"event": "call", "label": g.label, "method": name, "seqid": seqID, "args": args.values, "headers": headers})
	var res resultStruct
	switch name {
	case "sayHello":
		res.value, res.typ = fmt.Sprintf("Hello %s, from %s", args.values[0], g.label), thrift.STRING
	case "sayBye":
		res.value, res.typ = fmt.Sprintf("Bye %s, from %s", args.values[0], g.label), thrift.STRING
	case "unknownToRouter":
		res.value, res.typ = fmt.Sprintf("unknownToRouter %s, from %s", args.values[0], g.label), thrift.STRING
	case "add":
		res.value, res.typ = args.values[0].(int32)+args.values[1].(int32), thrift.I32
	case "ping":
		res.typ = thrift.VOID
	}
	return g.reply(ctx, outp, name, thrift.REPLY, seqID, &res, headers, g.label)
}

func (g *greeter) reply(ctx context.Context, p thrift.TProtocol, name string, t thrift.TMessageType, seqID int32, body thrift.TStruct, _ map[string]string, label string) (bool, thrift.TException) {
	if hp, ok := p.(*thrift.THeaderProtocol); ok && label != "" {
		hp.SetWriteHeader("x-server-version", label)
	}
	if err := p.WriteMessageBegin(ctx, name, t, seqID); err != nil {
		return false, thrift.WrapTException(err)
	}
	if err := body.Write(ctx, p); err != nil {
		return false, thrift.WrapTException(err)
	}
	if err := p.WriteMessageEnd(ctx); err != nil {
		return false, thrift.WrapTException(err)
	}
	return true, thrift.WrapTException(p.Flush(ctx))
}

// ---------------------------------------------------------------- the Greeter structs

type field struct {
	id  int16
	typ thrift.TType
}

// argsStruct is Greeter_<method>_args: string or i32 fields by id.
type argsStruct struct {
	fields []field
	values []any
}

func (a *argsStruct) Read(ctx context.Context, p thrift.TProtocol) error {
	a.values = make([]any, len(a.fields))
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return err
	}
	for {
		_, typ, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return err
		}
		if typ == thrift.STOP {
			break
		}
		known := false
		for i, f := range a.fields {
			if f.id == id && f.typ == typ {
				known = true
				if typ == thrift.STRING {
					a.values[i], err = p.ReadString(ctx)
				} else {
					a.values[i], err = p.ReadI32(ctx)
				}
			}
		}
		if !known {
			err = p.Skip(ctx, typ)
		}
		if err != nil {
			return err
		}
		if err := p.ReadFieldEnd(ctx); err != nil {
			return err
		}
	}
	return p.ReadStructEnd(ctx)
}

func (a *argsStruct) Write(ctx context.Context, p thrift.TProtocol) error {
	if err := p.WriteStructBegin(ctx, "args"); err != nil {
		return err
	}
	for i, f := range a.fields {
		if err := p.WriteFieldBegin(ctx, fmt.Sprintf("f%d", f.id), f.typ, f.id); err != nil {
			return err
		}
		var err error
		if f.typ == thrift.STRING {
			err = p.WriteString(ctx, a.values[i].(string))
		} else {
			err = p.WriteI32(ctx, a.values[i].(int32))
		}
		if err != nil {
			return err
		}
		if err := p.WriteFieldEnd(ctx); err != nil {
			return err
		}
	}
	if err := p.WriteFieldStop(ctx); err != nil {
		return err
	}
	return p.WriteStructEnd(ctx)
}

// resultStruct is Greeter_<method>_result: field 0 "success" (absent for void).
type resultStruct struct {
	typ   thrift.TType
	value any
}

func (r *resultStruct) Write(ctx context.Context, p thrift.TProtocol) error {
	if err := p.WriteStructBegin(ctx, "result"); err != nil {
		return err
	}
	if r.typ != thrift.VOID {
		if err := p.WriteFieldBegin(ctx, "success", r.typ, 0); err != nil {
			return err
		}
		var err error
		if r.typ == thrift.STRING {
			err = p.WriteString(ctx, r.value.(string))
		} else {
			err = p.WriteI32(ctx, r.value.(int32))
		}
		if err != nil {
			return err
		}
		if err := p.WriteFieldEnd(ctx); err != nil {
			return err
		}
	}
	if err := p.WriteFieldStop(ctx); err != nil {
		return err
	}
	return p.WriteStructEnd(ctx)
}

func (r *resultStruct) Read(ctx context.Context, p thrift.TProtocol) error {
	if _, err := p.ReadStructBegin(ctx); err != nil {
		return err
	}
	for {
		_, typ, id, err := p.ReadFieldBegin(ctx)
		if err != nil {
			return err
		}
		if typ == thrift.STOP {
			break
		}
		switch {
		case id == 0 && typ == thrift.STRING:
			r.value, err = p.ReadString(ctx)
		case id == 0 && typ == thrift.I32:
			r.value, err = p.ReadI32(ctx)
		default:
			err = p.Skip(ctx, typ)
		}
		if err != nil {
			return err
		}
		if err := p.ReadFieldEnd(ctx); err != nil {
			return err
		}
	}
	return p.ReadStructEnd(ctx)
}

// ---------------------------------------------------------------- client

type command struct {
	ID      int               `json:"id"`
	Op      string            `json:"op"`
	Method  string            `json:"method"`
	Args    []any             `json:"args"`
	Headers map[string]string `json:"headers"`
}

func client(addr, transport, protocol string, cfg *thrift.TConfiguration) error {
	var c *thrift.TStandardClient
	var trans thrift.TTransport
	connect := func() error {
		sock := thrift.NewTSocketConf(addr, cfg)
		var t thrift.TTransport
		var p thrift.TProtocol
		switch transport {
		case "framed":
			t = thrift.NewTFramedTransportConf(sock, cfg)
		case "header":
			t = thrift.NewTHeaderTransportConf(sock, cfg)
		default:
			t = thrift.NewTBufferedTransport(sock, 8192)
		}
		switch {
		case transport == "header":
			p = thrift.NewTHeaderProtocolConf(t, cfg)
		case protocol == "compact":
			p = thrift.NewTCompactProtocolConf(t, cfg)
		default:
			p = thrift.NewTBinaryProtocolConf(t, cfg)
		}
		if err := t.Open(); err != nil {
			return err
		}
		trans, c = t, thrift.NewTStandardClient(p, p)
		return nil
	}
	if err := connect(); err != nil {
		return err
	}
	emit(map[string]any{"event": "ready"})
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	for in.Scan() {
		var cmd command
		if err := json.Unmarshal(in.Bytes(), &cmd); err != nil {
			return err
		}
		if cmd.Op == "reconnect" {
			_ = trans.Close()
			err := connect()
			emit(map[string]any{"id": cmd.ID, "ok": err == nil})
			continue
		}
		emit(call(c, cmd))
	}
	return nil
}

// call is what the generated client's method does: TStandardClient.Call with args and result.
func call(c *thrift.TStandardClient, cmd command) map[string]any {
	ctx := context.Background()
	if len(cmd.Headers) > 0 {
		keys := make([]string, 0, len(cmd.Headers))
		for k, v := range cmd.Headers {
			keys = append(keys, k)
			ctx = thrift.SetHeader(ctx, k, v)
		}
		sort.Strings(keys)
		ctx = thrift.SetWriteHeaderList(ctx, keys)
	}
	args := argsStruct{values: make([]any, len(cmd.Args))}
	for i, a := range cmd.Args {
		switch v := a.(type) {
		case string:
			args.fields = append(args.fields, field{int16(i + 1), thrift.STRING})
			args.values[i] = v
		case float64:
			args.fields = append(args.fields, field{int16(i + 1), thrift.I32})
			args.values[i] = int32(v)
		}
	}
	var res resultStruct
	t0 := time.Now()
	meta, err := c.Call(ctx, cmd.Method, &args, &res)
	reply := map[string]any{"id": cmd.ID, "ms": time.Since(t0).Milliseconds(), "headers": meta.Headers}
	if err != nil {
		reply["ok"] = false
		reply["message"] = err.Error()
		var ax thrift.TApplicationException
		if errors.As(err, &ax) {
			reply["error"] = "TApplicationException"
			reply["type"] = ax.TypeId()
		} else {
			reply["error"] = fmt.Sprintf("%T", err)
		}
		return reply
	}
	reply["ok"] = true
	reply["value"] = res.value
	return reply
}
