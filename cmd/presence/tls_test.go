package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/presence-dev/presence/internal/clock"
	"github.com/presence-dev/presence/protocol"
	"github.com/presence-dev/presence/session"
)

// writeCert writes a fresh self-signed certificate for 127.0.0.1, named
// name, into dir, and returns it.
func writeCert(t *testing.T, dir, name string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// presence serves HTTPS and WSS itself with -tls-cert and -tls-key, and
// a SIGHUP loads a renewed certificate for new connections while the tabs
// already connected stay connected.
func TestTLSReloadsWithoutDroppingTabs(t *testing.T) {
	dir := t.TempDir()
	first := writeCert(t, dir, "first")
	roots := x509.NewCertPool()
	roots.AddCert(first)

	cfg, err := parseConfig([]string{"-tls-cert", filepath.Join(dir, "cert.pem"), "-tls-key", filepath.Join(dir, "key.pem")},
		envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hup := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, ln, deps{log: zap.NewNop(), clock: clock.System(), out: io.Discard, hup: hup})
	}()
	t.Cleanup(func() { cancel(); <-done })
	base := "https://" + ln.Addr().String()

	peer := func() string {
		t.Helper()
		conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS with the first certificate: %v", err)
	}
	resp.Body.Close()

	tok, _ := session.Mint([]byte(goodSecret), session.Claims{SID: "s1"})
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	tab, _, err := websocket.Dial(wctx, "wss://"+ln.Addr().String()+"/ws", &websocket.DialOptions{HTTPClient: client, Subprotocols: []string{protocol.Subprotocol}})
	if err != nil {
		t.Fatalf("WSS: %v", err)
	}
	defer tab.CloseNow()
	tab.Write(wctx, websocket.MessageText, protocol.ClientFrame{Type: protocol.TypeHello, Token: tok}.AppendJSON(nil))
	if _, data, err := tab.Read(wctx); err != nil || !strings.Contains(string(data), `"state"`) {
		t.Fatalf("state over WSS: %s %v", data, err)
	}

	writeCert(t, dir, "second")
	hup <- os.Interrupt // stands for SIGHUP
	deadline := time.Now().Add(5 * time.Second)
	for peer() != "second" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := peer(); got != "second" {
		t.Fatalf("after the reload, new connections see %q, want the second certificate", got)
	}
	// The tab connected with the first certificate is still served.
	tab.Write(wctx, websocket.MessageText, []byte(`{"type":"sync"}`))
	if _, data, err := tab.Read(wctx); err != nil || !strings.Contains(string(data), protocol.CodeUnknownType) {
		t.Errorf("the tab after the reload: %s %v, want it still served", data, err)
	}
}

func TestTLSNeedsBothFiles(t *testing.T) {
	_, err := parseConfig([]string{"-tls-cert", "/x.pem"}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-tls-key") {
		t.Errorf("only -tls-cert: %v, want a pointer to -tls-key", err)
	}
	cfg, err := parseConfig([]string{"-tls-cert", "/nonexistent/cert.pem", "-tls-key", "/nonexistent/key.pem"}, envOf(map[string]string{"PRESENCE_SECRET": goodSecret}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	err = serve(context.Background(), cfg, ln, deps{log: zap.NewNop(), clock: clock.System(), out: io.Discard})
	var ce *configError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "/nonexistent/cert.pem") {
		t.Errorf("missing files: %v, want a configuration error naming the file", err)
	}
}
