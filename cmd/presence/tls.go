package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync/atomic"

	"go.uber.org/zap"
)

// certificate serves presence's TLS certificate, and loads it again from
// its files on SIGHUP: a renewed certificate takes effect for new
// connections while the tabs already connected stay connected.
type certificate struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
}

// loadCertificate reads the pair of files, or says which to fix.
func loadCertificate(certFile, keyFile string) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the files again; on failure the certificate in use stays.
func (c *certificate) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		if _, statErr := os.Stat(c.certFile); statErr != nil {
			return fmt.Errorf("-tls-cert %s: %w", c.certFile, statErr)
		}
		if _, statErr := os.Stat(c.keyFile); statErr != nil {
			return fmt.Errorf("-tls-key %s: %w", c.keyFile, statErr)
		}
		return fmt.Errorf("-tls-cert %s and -tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.current.Store(&pair)
	return nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}

// config is the TLS configuration of the server.
func (c *certificate) config() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.get}
}

// watch reloads the certificate at every signal on hup until done.
func (c *certificate) watch(hup <-chan os.Signal, done <-chan struct{}, log *zap.Logger) {
	for {
		select {
		case <-done:
			return
		case <-hup:
			if err := c.reload(); err != nil {
				log.Error("TLS certificate not reloaded; the one in use stays", zap.Error(err))
				continue
			}
			log.Info("TLS certificate reloaded", zap.String("cert", c.certFile))
		}
	}
}
