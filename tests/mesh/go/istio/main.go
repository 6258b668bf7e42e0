// One binary per Istio release for the mesh tests, from istio.io/istio as a Go library (the
// release is chosen by the modfile: istio-1.29.mod, istio-1.30.mod):
//
//	istio pilot-discovery discovery ...   istiod, exactly as Istio's own main runs it
//	istio validate -f FILE...             what `istioctl validate` runs (its own command)
//	istio wasm-pull DIR URL [SHA256]      the istio-agent's Wasm module cache: pulls an oci://
//	                                      or http(s):// module as the agent would, prints the file
//
// One link instead of three saves minutes on 2 cores.
package main

import (
	"fmt"
	"os"
	"time"

	"istio.io/istio/istioctl/pkg/cli"
	"istio.io/istio/istioctl/pkg/validate"
	"istio.io/istio/pilot/cmd/pilot-discovery/app"
	"istio.io/istio/pkg/log"
	"istio.io/istio/pkg/util/sets"
	"istio.io/istio/pkg/wasm"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: istio pilot-discovery|validate|wasm-pull ...")
		os.Exit(2)
	}
	tool, rest := os.Args[1], os.Args[2:]
	switch tool {
	case "pilot-discovery":
		log.EnableKlogWithCobra()
		root := app.NewRootCommand()
		root.SetArgs(rest)
		if err := root.Execute(); err != nil {
			log.Error(err)
			os.Exit(1)
		}
	case "validate":
		cmd := validate.NewValidateCommand(cli.NewCLIContext(nil))
		cmd.SetArgs(rest)
		cmd.SilenceUsage = true
		if err := cmd.Execute(); err != nil {
			os.Exit(1)
		}
	case "wasm-pull":
		os.Exit(wasmPull(rest))
	default:
		fmt.Fprintln(os.Stderr, "unknown tool", tool)
		os.Exit(2)
	}
}

// wasmPull fetches one module through wasm.LocalFileCache, the code istio-agent runs when
// ECDS names a remote module. Loopback registries are plain HTTP, so they are listed as insecure
// as a mesh operator would list theirs.
func wasmPull(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: istio wasm-pull CACHE_DIR URL [SHA256] [INSECURE_REGISTRY...]")
		return 2
	}
	dir, url := args[0], args[1]
	sum := ""
	if len(args) > 2 {
		sum = args[2]
	}
	insecure := sets.New[string]()
	if len(args) > 3 {
		insecure.InsertAll(args[3:]...)
	}
	cache := wasm.NewLocalFileCache(dir, wasm.Options{InsecureRegistries: insecure})
	defer cache.Cleanup()
	path, err := cache.Get(url, wasm.GetOptions{
		Checksum:        sum,
		ResourceName:    "mesh-test",
		ResourceVersion: "1",
		RequestTimeout:  30 * time.Second,
		PullPolicy:      wasm.Always,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasm-pull:", err)
		return 1
	}
	fmt.Println(path)
	return 0
}
