// One binary for the Kubernetes side of the mesh tests: kube-apiserver, kubectl and etcd, all
// from Kubernetes' own Go modules at one pinned release (see go.mod). One link instead of three
// saves minutes on 2 cores; the tool is picked by the name it is called by (symlinks) or by the
// first argument: `kube apiserver ...`, `kube kubectl ...`, `kube etcd ...`.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.etcd.io/etcd/server/v3/etcdmain"
	"k8s.io/component-base/cli"
	kubectl "k8s.io/kubectl/pkg/cmd"
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	tool := strings.TrimPrefix(filepath.Base(os.Args[0]), "kube-")
	args := os.Args
	if tool == "kube" && len(os.Args) > 1 {
		tool = strings.TrimPrefix(os.Args[1], "kube-")
		args = os.Args[1:]
	}
	switch tool {
	case "apiserver":
		os.Args = args
		os.Exit(cli.Run(apiserver.NewAPIServerCommand()))
	case "kubectl":
		os.Args = args
		os.Exit(cli.Run(kubectl.NewDefaultKubectlCommand()))
	case "etcd":
		etcdmain.Main(args)
	default:
		fmt.Fprintln(os.Stderr, "usage: kube apiserver|kubectl|etcd [flags]")
		os.Exit(2)
	}
}
