import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basicAuthOf, MASK, maskSecret, maskUrlCredentials, redactSecrets, registerSecret } from '../../src/core/kernel/secrets.ts';

test('one mask for registered secrets, Anthropic-shaped keys, secret settings and URL passwords', () => {
  registerSecret('hunter2-hunter2');
  assert.equal(redactSecrets('pw=hunter2-hunter2 key=sk-ant-api03-abcdefghij'), `pw=${MASK} key=sk-ant-${MASK}`);
  assert.equal(maskSecret('sk-ant-api03-abcdefghij'), `sk-…${MASK}ij`);
  assert.equal(maskSecret('short'), MASK);
  assert.equal(maskUrlCredentials('postgres://agent:s3cret@db:5432/agent'), `postgres://agent:${MASK}@db:5432/agent`);
});

test('a URL without a password is shown as given; text that is no URL still has its userinfo masked', () => {
  assert.equal(maskUrlCredentials('http://pushgateway:9091'), 'http://pushgateway:9091');
  assert.equal(maskUrlCredentials('http://user@pushgateway:9091'), 'http://user@pushgateway:9091');
  assert.equal(maskUrlCredentials('//user:pw@host:bad port'), `//user:${MASK}@host:bad port`);
  assert.equal(maskUrlCredentials('//token@host:bad port'), `//${MASK}@host:bad port`);
});

test('basic auth is built from the URL userinfo, percent-decoded; none without userinfo', () => {
  assert.equal(basicAuthOf(new URL('http://pushgateway:9091')), null);
  assert.equal(basicAuthOf(new URL('http://al%40ice:p%3Ass@pushgateway:9091')), `Basic ${Buffer.from('al@ice:p:ss').toString('base64')}`);
  assert.equal(basicAuthOf(new URL('http://token@pushgateway:9091')), `Basic ${Buffer.from('token:').toString('base64')}`);
});
