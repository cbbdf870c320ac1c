package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/rest"
	cliflag "k8s.io/component-base/cli/flag"

	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	apiserveroptions "k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	kcmoptions "k8s.io/kubernetes/cmd/kube-controller-manager/app/options"
	schedapp "k8s.io/kubernetes/cmd/kube-scheduler/app"
	schedoptions "k8s.io/kubernetes/cmd/kube-scheduler/app/options"
)

// controllers run by the in-process kube-controller-manager.
var controllers = []string{
	"job-controller",
	"cronjob-controller",
	"garbage-collector-controller",
	"serviceaccount-controller",
	"serviceaccount-token-controller",
	"namespace-controller",
	"ttl-after-finished-controller",
	"pod-garbage-collector-controller",
	"replicaset-controller",
	"deployment-controller",
	"statefulset-controller",
	"root-ca-certificate-publisher-controller",
	// Removes the node.kubernetes.io/not-ready taint (added by admission when a
	// Node is created) once the node reports Ready; without it nothing schedules.
	"node-lifecycle-controller",
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startEtcd starts an embedded single-member etcd under dataDir/etcd and
// returns it with its client URL. Retries a few times on port races.
func startEtcd(dataDir string, logFile *os.File) (*embed.Etcd, string, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		cport, err := freePort()
		if err != nil {
			return nil, "", err
		}
		pport, err := freePort()
		if err != nil {
			return nil, "", err
		}
		curl, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", cport))
		purl, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", pport))

		cfg := embed.NewConfig()
		cfg.Name = "sandbox"
		cfg.Dir = filepath.Join(dataDir, "etcd")
		cfg.ListenClientUrls = []url.URL{*curl}
		cfg.AdvertiseClientUrls = []url.URL{*curl}
		cfg.ListenPeerUrls = []url.URL{*purl}
		cfg.AdvertisePeerUrls = []url.URL{*purl}
		cfg.InitialCluster = fmt.Sprintf("%s=%s", cfg.Name, purl.String())
		cfg.InitialClusterToken = "sandbox-control-plane"
		cfg.ListenMetricsUrls = nil
		cfg.Metrics = "basic"
		cfg.EnableGRPCGateway = false
		// NewConfig leaves this 0, which logs every request as "expensive".
		cfg.WarningUnaryRequestDuration = embed.DefaultWarningUnaryRequestDuration
		// Throw-away sandbox data: no fsync keeps writes fast on a shared disk.
		cfg.UnsafeNoFsync = true
		cfg.Logger = "zap"
		cfg.LogLevel = "warn"
		core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logFile), zap.WarnLevel)
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(core).With(zap.String("component", "etcd")))

		e, err := embed.StartEtcd(cfg)
		if err != nil {
			lastErr = err
			if strings.Contains(err.Error(), "address already in use") {
				continue
			}
			return nil, "", fmt.Errorf("etcd: %w", err)
		}
		select {
		case <-e.Server.ReadyNotify():
			return e, curl.String(), nil
		case err := <-e.Err():
			e.Close()
			return nil, "", fmt.Errorf("etcd: %w", err)
		case <-time.After(60 * time.Second):
			e.Server.Stop()
			e.Close()
			return nil, "", errors.New("etcd: not ready after 60s")
		}
	}
	return nil, "", fmt.Errorf("etcd: %w", lastErr)
}

func parseInto(name string, nfs cliflag.NamedFlagSets, args []string) error {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	for _, f := range nfs.FlagSets {
		fs.AddFlagSet(f)
	}
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s flags: %w", name, err)
	}
	return nil
}

// runAPIServer mirrors the RunE of app.NewAPIServerCommand without its
// process-wide signal handler, serving on the listener we already hold.
func runAPIServer(ctx context.Context, args []string, ln net.Listener) error {
	s := apiserveroptions.NewServerRunOptions()
	if err := parseInto("kube-apiserver", s.Flags(), args); err != nil {
		return err
	}
	s.SecureServing.Listener = ln
	if err := s.GenericServerRunOptions.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	// kube-apiserver loopback clients should not log self-issued warnings.
	rest.SetDefaultWarningHandler(rest.NoWarnings{})
	completed, err := s.Complete(ctx)
	if err != nil {
		return err
	}
	if errs := completed.Validate(); len(errs) != 0 {
		return utilerrors.NewAggregate(errs)
	}
	return apiserverapp.Run(ctx, completed)
}

// runControllerManager mirrors NewControllerManagerCommand's RunE.
func runControllerManager(ctx context.Context, args []string) error {
	s, err := kcmoptions.NewKubeControllerManagerOptions()
	if err != nil {
		return err
	}
	known, disabled, aliases := kcmapp.KnownControllers(), kcmapp.ControllersDisabledByDefault(), kcmapp.ControllerAliases()
	nfs := s.Flags(known, disabled, aliases)
	if err := parseInto("kube-controller-manager", nfs, args); err != nil {
		return err
	}
	if err := s.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	c, err := s.Config(ctx, known, disabled, aliases)
	if err != nil {
		return err
	}
	return kcmapp.Run(ctx, c.Complete())
}

// runScheduler mirrors NewSchedulerCommand's runCommand.
func runScheduler(ctx context.Context, args []string) error {
	opts := schedoptions.NewOptions()
	if err := parseInto("kube-scheduler", *opts.Flags, args); err != nil {
		return err
	}
	if err := opts.ComponentGlobalsRegistry.Set(); err != nil {
		return err
	}
	cc, sched, err := schedapp.Setup(ctx, opts)
	if err != nil {
		return err
	}
	return schedapp.Run(ctx, cc, sched)
}
