package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// ca is the per-run certificate authority. Its key only lives in memory.
type ca struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
}

type certPair struct {
	certPEM []byte
	keyPEM  []byte
}

func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

func keyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		panic(err)
	}
	return n
}

func newCA() (*ca, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "sandbox-control-plane-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &ca{cert: cert, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: key}, nil
}

// issue signs a leaf certificate. server adds ServerAuth usage and the SANs.
func (c *ca) issue(cn string, orgs []string, client, server bool, dns []string, ips []net.IP) (*certPair, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
	if client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	if server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return nil, err
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, err
	}
	return &certPair{certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM: kp}, nil
}

// writeFile writes atomically (temp file + rename) with the given mode.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (p *certPair) write(certPath, keyPath string) error {
	if err := writeFile(certPath, p.certPEM, 0o600); err != nil {
		return err
	}
	return writeFile(keyPath, p.keyPEM, 0o600)
}

// writeKubeconfig writes a kubeconfig with everything embedded inline, mode 0600.
func writeKubeconfig(path, server, user string, caPEM []byte, p *certPair) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["sandbox"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: p.certPEM, ClientKeyData: p.keyPEM}
	cfg.Contexts["sandbox"] = &clientcmdapi.Context{Cluster: "sandbox", AuthInfo: user, Namespace: "default"}
	cfg.CurrentContext = "sandbox"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	return writeFile(path, data, 0o600)
}

// pkiFiles are the paths of everything generated for one run.
type pkiFiles struct {
	dir string // data dir

	caFile                                         string
	apiserverCert, apiserverKey                    string
	kubeletClientCert, kubeletClientKey            string
	saKey, saPub                                   string
	kubeletCert, kubeletKey                        string
	adminKC, operatorKC, kubeletKC, kcmKC, schedKC string
}

func newPKIFiles(dataDir string) *pkiFiles {
	pki := filepath.Join(dataDir, "pki")
	return &pkiFiles{
		dir:               dataDir,
		caFile:            filepath.Join(dataDir, "ca.crt"),
		apiserverCert:     filepath.Join(pki, "apiserver.crt"),
		apiserverKey:      filepath.Join(pki, "apiserver.key"),
		kubeletClientCert: filepath.Join(pki, "apiserver-kubelet-client.crt"),
		kubeletClientKey:  filepath.Join(pki, "apiserver-kubelet-client.key"),
		saKey:             filepath.Join(pki, "sa.key"),
		saPub:             filepath.Join(pki, "sa.pub"),
		kubeletCert:       filepath.Join(dataDir, "kubelet.crt"),
		kubeletKey:        filepath.Join(dataDir, "kubelet.key"),
		adminKC:           filepath.Join(dataDir, "admin.kubeconfig"),
		operatorKC:        filepath.Join(dataDir, "operator.kubeconfig"),
		kubeletKC:         filepath.Join(dataDir, "kubelet.kubeconfig"),
		kcmKC:             filepath.Join(pki, "controller-manager.kubeconfig"),
		schedKC:           filepath.Join(pki, "scheduler.kubeconfig"),
	}
}

// generatePKI creates a fresh CA and every certificate, key and kubeconfig for this run.
func generatePKI(f *pkiFiles, server string) error {
	if err := os.MkdirAll(filepath.Join(f.dir, "pki"), 0o700); err != nil {
		return err
	}
	c, err := newCA()
	if err != nil {
		return err
	}
	if err := writeFile(f.caFile, c.certPEM, 0o644); err != nil {
		return err
	}
	loop := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("10.0.0.1")}

	type issued struct {
		cn     string
		orgs   []string
		client bool
		server bool
		dns    []string
		ips    []net.IP
		write  func(p *certPair) error
	}
	kc := func(path, user string) func(p *certPair) error {
		return func(p *certPair) error { return writeKubeconfig(path, server, user, c.certPEM, p) }
	}
	pair := func(cert, key string) func(p *certPair) error {
		return func(p *certPair) error { return p.write(cert, key) }
	}
	all := []issued{
		{cn: "kube-apiserver", server: true,
			dns: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			ips: loop, write: pair(f.apiserverCert, f.apiserverKey)},
		{cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}, client: true,
			write: pair(f.kubeletClientCert, f.kubeletClientKey)},
		{cn: "system:node:sandbox-node", orgs: []string{"system:nodes"}, server: true,
			dns: []string{"localhost", "sandbox-node"}, ips: []net.IP{net.ParseIP("127.0.0.1")},
			write: pair(f.kubeletCert, f.kubeletKey)},
		{cn: "sandbox-admin", orgs: []string{"system:masters"}, client: true, write: kc(f.adminKC, "sandbox-admin")},
		{cn: "sandbox-operator", client: true, write: kc(f.operatorKC, "sandbox-operator")},
		{cn: "system:node:sandbox-node", orgs: []string{"system:nodes"}, client: true, write: kc(f.kubeletKC, "system:node:sandbox-node")},
		// --use-service-account-credentials=false: every controller runs with this identity.
		{cn: "system:kube-controller-manager", orgs: []string{"system:masters"}, client: true, write: kc(f.kcmKC, "system:kube-controller-manager")},
		{cn: "system:kube-scheduler", client: true, write: kc(f.schedKC, "system:kube-scheduler")},
	}
	for _, i := range all {
		p, err := c.issue(i.cn, i.orgs, i.client, i.server, i.dns, i.ips)
		if err != nil {
			return fmt.Errorf("issue %s: %w", i.cn, err)
		}
		if err := i.write(p); err != nil {
			return err
		}
	}

	// Service-account token signing key (ES256).
	sa, err := newKey()
	if err != nil {
		return err
	}
	saPEM, err := keyPEM(sa)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(sa.Public())
	if err != nil {
		return err
	}
	if err := writeFile(f.saKey, saPEM, 0o600); err != nil {
		return err
	}
	return writeFile(f.saPub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600)
}
