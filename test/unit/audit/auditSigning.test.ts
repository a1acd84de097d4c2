// The checkpoint signing key (AUDIT_SIGNING_KEY): PEM or base64 PKCS#8; a development key under the data directory;
// production refuses to start without one.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAuditSigner, parsePublicKey, verifySignature } from '../../../src/crypto/auditSigning.js';
import { loadConfig } from '../../../src/config.js';

const tempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-signing-'));

describe('audit signing key', () => {
  it('production refuses to start without AUDIT_SIGNING_KEY', () => {
    expect(() => loadAuditSigner({ env: { NODE_ENV: 'production' }, dataDir: tempDir() })).toThrow(/AUDIT_SIGNING_KEY must be set in production/);
  });

  it('development generates one key under the data directory (0600) and keeps using it', () => {
    const dataDir = tempDir();
    const first = loadAuditSigner({ env: {}, dataDir });
    const again = loadAuditSigner({ env: {}, dataDir });
    expect(again.publicKeyPem).toBe(first.publicKeyPem);
    expect(fs.statSync(path.join(dataDir, 'audit-signing-key.pem')).mode & 0o777).toBe(0o600);
    expect(verifySignature(parsePublicKey(first.publicKeyPem), 'statement', again.sign('statement'))).toBe(true);
  });

  it('reads PEM and base64 PKCS#8, and signs so that only its public key verifies', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const pem = loadAuditSigner({ env: { NODE_ENV: 'production', AUDIT_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, dataDir: tempDir() });
    const der = loadAuditSigner({ env: { NODE_ENV: 'production', AUDIT_SIGNING_KEY: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64') }, dataDir: tempDir() });
    expect(der.publicKeyPem).toBe(publicKey.export({ type: 'spki', format: 'pem' }));
    expect(pem.keyId).toBe(der.keyId);
    const signature = pem.sign('tessera-audit-checkpoint/v1\n');
    expect(verifySignature(publicKey, 'tessera-audit-checkpoint/v1\n', signature)).toBe(true);
    expect(verifySignature(generateKeyPairSync('ed25519').publicKey, 'tessera-audit-checkpoint/v1\n', signature)).toBe(false);
    expect(verifySignature(publicKey, 'tessera-audit-checkpoint/v2\n', signature)).toBe(false);
  });

  it('refuses a key that is not Ed25519, or not a key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadAuditSigner({ env: { AUDIT_SIGNING_KEY: rsa }, dataDir: tempDir() })).toThrow(/Ed25519/);
    expect(() => loadAuditSigner({ env: { AUDIT_SIGNING_KEY: 'not a key' }, dataDir: tempDir() })).toThrow(/AUDIT_SIGNING_KEY must be/);
  });

  it('reads AUDIT_CHECKPOINT_EVERY (1000), AUDIT_CHECKPOINT_SECONDS (60) and MIGRATION_DATABASE_URL', () => {
    expect(loadConfig({}).audit).toEqual({ checkpointEvery: 1000, checkpointSeconds: 60 });
    expect(loadConfig({}).migrationDatabaseUrl).toBeUndefined();
    const set = loadConfig({ AUDIT_CHECKPOINT_EVERY: '10', AUDIT_CHECKPOINT_SECONDS: '5', MIGRATION_DATABASE_URL: 'postgres://owner@db/tessera' });
    expect(set).toMatchObject({ audit: { checkpointEvery: 10, checkpointSeconds: 5 }, migrationDatabaseUrl: 'postgres://owner@db/tessera' });
    expect(() => loadConfig({ AUDIT_CHECKPOINT_EVERY: '0' })).toThrow(/AUDIT_CHECKPOINT_EVERY/);
    expect(() => loadConfig({ MIGRATION_DATABASE_URL: 'mysql://x' })).toThrow(/MIGRATION_DATABASE_URL/);
  });
});
