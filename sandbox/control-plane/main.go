// Command control-plane runs a single-node Kubernetes control plane in one
// process on 127.0.0.1: embedded etcd, kube-apiserver, kube-controller-manager
// and kube-scheduler, all from the upstream k8s.io/kubernetes Go modules.
//
// It prints exactly one JSON line on stdout once the cluster is usable; every
// log goes to DATA_DIR/control-plane.log.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/component-base/version"
	"k8s.io/klog/v2"
)

var started = time.Now()

// readyLine is the one JSON line printed on stdout.
type readyLine struct {
	Ready              bool   `json:"ready"`
	Server             string `json:"server"`
	AdminKubeconfig    string `json:"adminKubeconfig"`
	OperatorKubeconfig string `json:"operatorKubeconfig"`
	KubeletKubeconfig  string `json:"kubeletKubeconfig"`
	CAFile             string `json:"caFile"`
	KubeletCert        string `json:"kubeletCert"`
	KubeletKey         string `json:"kubeletKey"`
	Version            string `json:"version"`
	StartupMs          int64  `json:"startupMs"`
}

var (
	// realStdout/realStderr are the descriptors we were started with; fd 1
	// and fd 2 themselves are pointed at the log file so that nothing a
	// library prints can reach the caller.
	realStdout = os.Stdout
	realStderr = os.Stderr

	exitOnce sync.Once
	stopAll  context.CancelFunc = func() {}
	cleanup  []func()
	cleanMu  sync.Mutex
)

func addCleanup(f func()) {
	cleanMu.Lock()
	defer cleanMu.Unlock()
	cleanup = append(cleanup, f)
}

// exit stops everything (bounded by a short grace period) and exits.
func exit(code int, msg string) {
	exitOnce.Do(func() {
		if msg != "" {
			fmt.Fprintln(realStderr, "control-plane: "+strings.ReplaceAll(msg, "\n", " "))
			klog.ErrorS(nil, "fatal", "msg", msg)
		}
		klog.InfoS("shutting down", "code", code)
		hard := time.AfterFunc(4*time.Second, func() {
			klog.Flush()
			os.Exit(code)
		})
		defer hard.Stop()
		stopAll()
		done := make(chan struct{})
		go func() {
			cleanMu.Lock()
			fs := append([]func(){}, cleanup...)
			cleanMu.Unlock()
			for i := len(fs) - 1; i >= 0; i-- {
				fs[i]()
			}
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
		}
		klog.Flush()
		os.Exit(code)
	})
	select {} // another goroutine is exiting
}

func fatal(format string, args ...any) {
	exit(1, fmt.Sprintf(format, args...))
}

// setupLogging sends klog, the std logger and anything written to fd 1/2
// into the log file, keeping private copies of the real stdout/stderr.
func setupLogging(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		fd   int
		real **os.File
		name string
	}{{1, &realStdout, "stdout"}, {2, &realStderr, "stderr"}} {
		dup, err := unix.FcntlInt(uintptr(p.fd), unix.F_DUPFD_CLOEXEC, 3)
		if err != nil {
			return nil, err
		}
		*p.real = os.NewFile(uintptr(dup), p.name)
		if err := unix.Dup3(int(f.Fd()), p.fd, 0); err != nil {
			return nil, err
		}
	}
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for k, v := range map[string]string{
		"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL",
		"v": "0", "one_output": "true",
	} {
		if err := fs.Set(k, v); err != nil {
			return nil, fmt.Errorf("klog flag %s: %w", k, err)
		}
	}
	klog.SetOutput(f)
	log.SetOutput(f)
	return f, nil
}

// watchStdin exits when stdin is a pipe or socket that reaches EOF, so a
// parent that dies (even by SIGKILL) never leaves us orphaned.
func watchStdin() {
	st, err := os.Stdin.Stat()
	if err != nil || st.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		klog.InfoS("stdin closed, exiting")
		exit(0, "")
	}()
}

func main() {
	// A private flag set: linked-in libraries (cadvisor) register globals.
	flags := flag.NewFlagSet("control-plane", flag.ExitOnError)
	dataDir := flags.String("data-dir", "", "directory for etcd data, certificates, kubeconfigs and the log (required)")
	port := flags.Int("port", 0, "kube-apiserver secure port on 127.0.0.1 (0 = pick a free port)")
	namespaces := flags.String("namespaces", "data", "comma-separated namespaces to create before reporting ready")
	flags.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: control-plane --data-dir DIR [--port N] [--namespaces a,b,c]\n")
		flags.PrintDefaults()
	}
	_ = flags.Parse(os.Args[1:])
	if *dataDir == "" || flags.NArg() != 0 {
		flags.Usage()
		os.Exit(2)
	}
	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "control-plane:", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "control-plane:", err)
		os.Exit(1)
	}
	logFile, err := setupLogging(filepath.Join(dir, "control-plane.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "control-plane: logging:", err)
		os.Exit(1)
	}
	klog.InfoS("control-plane starting", "version", version.Get().GitVersion, "dataDir", dir, "pid", os.Getpid())

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sigs
		klog.InfoS("signal received", "signal", s.String())
		exit(0, "")
	}()
	watchStdin()

	ctx, cancel := context.WithCancel(context.Background())
	stopAll = cancel

	// The apiserver's listener is opened first so the kubeconfigs can name its port.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		fatal("listen on 127.0.0.1:%d: %v", *port, err)
	}
	apiPort := ln.Addr().(*net.TCPAddr).Port
	server := fmt.Sprintf("https://127.0.0.1:%d", apiPort)

	files := newPKIFiles(dir)
	if err := generatePKI(files, server); err != nil {
		fatal("certificates: %v", err)
	}

	etcd, etcdURL, err := startEtcd(dir, logFile)
	if err != nil {
		fatal("%v", err)
	}
	addCleanup(func() {
		done := make(chan struct{})
		go func() { etcd.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	})
	go func() {
		if err, ok := <-etcd.Err(); ok && err != nil {
			fatal("etcd: %v", err)
		}
	}()

	components := &sync.WaitGroup{}
	addCleanup(func() {
		done := make(chan struct{})
		go func() { components.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
	})
	run := func(name string, f func() error) {
		components.Add(1)
		go func() {
			defer components.Done()
			err := f()
			if ctx.Err() != nil {
				return // shutting down
			}
			if err == nil {
				err = errors.New("stopped unexpectedly")
			}
			fatal("%s: %v", name, err)
		}()
	}

	run("kube-apiserver", func() error {
		return runAPIServer(ctx, []string{
			"--etcd-servers=" + etcdURL,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(apiPort),
			"--advertise-address=127.0.0.1",
			"--cert-dir=" + filepath.Join(dir, "pki"),
			"--tls-cert-file=" + files.apiserverCert,
			"--tls-private-key-file=" + files.apiserverKey,
			"--client-ca-file=" + files.caFile,
			"--authorization-mode=Node,RBAC",
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + files.saPub,
			"--service-account-signing-key-file=" + files.saKey,
			"--endpoint-reconciler-type=none",
			"--service-cluster-ip-range=10.0.0.0/24",
			"--kubelet-client-certificate=" + files.kubeletClientCert,
			"--kubelet-client-key=" + files.kubeletClientKey,
			"--kubelet-preferred-address-types=InternalIP",
			"--allow-privileged=true",
			"--profiling=false",
		}, ln)
	})

	admin, err := clientcmd.BuildConfigFromFlags("", files.adminKC)
	if err != nil {
		fatal("admin kubeconfig: %v", err)
	}
	admin.QPS, admin.Burst = 50, 100
	client, err := kubernetes.NewForConfig(admin)
	if err != nil {
		fatal("admin client: %v", err)
	}

	// Controller manager and scheduler start once the apiserver is healthy.
	waitFor(ctx, 90*time.Second, "kube-apiserver /healthz", func() (bool, error) {
		return probe(ctx, client, "/healthz"), nil
	})
	run("kube-controller-manager", func() error {
		return runControllerManager(ctx, []string{
			"--kubeconfig=" + files.kcmKC,
			"--secure-port=0",
			"--leader-elect=false",
			"--controllers=" + strings.Join(controllers, ","),
			"--service-account-private-key-file=" + files.saKey,
			"--root-ca-file=" + files.caFile,
			"--use-service-account-credentials=false",
			"--cluster-name=sandbox",
			"--profiling=false",
		})
	})
	run("kube-scheduler", func() error {
		return runScheduler(ctx, []string{
			"--kubeconfig=" + files.schedKC,
			"--secure-port=0",
			"--leader-elect=false",
			"--profiling=false",
		})
	})

	waitFor(ctx, 90*time.Second, "kube-apiserver /readyz", func() (bool, error) {
		return probe(ctx, client, "/readyz"), nil
	})
	for _, ns := range []string{"default", "kube-system"} {
		waitFor(ctx, 60*time.Second, "namespace "+ns, func() (bool, error) {
			_, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			return err == nil, nil
		})
	}
	var wanted []string
	for _, ns := range strings.Split(*namespaces, ",") {
		if ns = strings.TrimSpace(ns); ns == "" {
			continue
		}
		wanted = append(wanted, ns)
		_, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			fatal("create namespace %s: %v", ns, err)
		}
	}
	// The default ServiceAccount proves the controller manager runs; pods
	// are rejected by admission in a namespace that has none yet.
	for _, ns := range append([]string{"default"}, wanted...) {
		waitFor(ctx, 60*time.Second, "serviceaccount "+ns+"/default", func() (bool, error) {
			_, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		})
	}

	line, _ := json.Marshal(readyLine{
		Ready:              true,
		Server:             server,
		AdminKubeconfig:    files.adminKC,
		OperatorKubeconfig: files.operatorKC,
		KubeletKubeconfig:  files.kubeletKC,
		CAFile:             files.caFile,
		KubeletCert:        files.kubeletCert,
		KubeletKey:         files.kubeletKey,
		Version:            version.Get().GitVersion,
		StartupMs:          time.Since(started).Milliseconds(),
	})
	klog.InfoS("ready", "line", string(line))
	if _, err := realStdout.Write(append(line, '\n')); err != nil {
		klog.ErrorS(err, "write ready line")
	}
	<-ctx.Done()
	select {}
}

func probe(ctx context.Context, c kubernetes.Interface, path string) bool {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	body, err := c.Discovery().RESTClient().Get().AbsPath(path).DoRaw(rctx)
	return err == nil && strings.TrimSpace(string(body)) == "ok"
}

// waitFor polls cond every 100ms, failing the process after timeout.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() (bool, error)) {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			fatal("waiting for %s: %v", what, err)
		}
		if ok {
			klog.InfoS("ready", "what", what, "elapsed", time.Since(started).String())
			return
		}
		if ctx.Err() != nil {
			select {} // shutting down
		}
		if time.Now().After(deadline) {
			fatal("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
