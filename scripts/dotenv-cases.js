#!/usr/bin/env node
// Runs npm dotenv@16.4.7 (the version the original tatum-kms locks) on
// .env texts, the way the original loads a file: written to disk, then
// dotenv.config({ path }) (readFileSync as UTF-8, then parse()), with an
// empty processEnv so nothing outside the file counts.
//
//   node scripts/dotenv-cases.js < cases.json         prints the parsed map of each case (a JSON array)
//   node scripts/dotenv-cases.js --record FILE.json   rewrites each case's "expected" in FILE.json
//
// A case gives its text as "input" (a string) or "input_hex" (bytes, for
// what a JSON string cannot hold). dotenv is looked for in $KMS_DOTENV_DIR,
// else ~/.cache/kms-node/node_modules/dotenv (scripts/test.sh installs it).
'use strict'
const fs = require('fs')
const os = require('os')
const path = require('path')

const WANT = '16.4.7'
const dir = process.env.KMS_DOTENV_DIR ||
  path.join(os.homedir(), '.cache/kms-node/node_modules/dotenv')
const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version
if (version !== WANT) {
  console.error(`${dir} is dotenv ${version}, not ${WANT}`)
  process.exit(3)
}
const dotenv = require(dir)

function parseCase (c, tmp, i) {
  const bytes = c.input_hex !== undefined ? Buffer.from(c.input_hex, 'hex') : Buffer.from(c.input, 'utf8')
  const file = path.join(tmp, `case-${i}.env`)
  fs.writeFileSync(file, bytes)
  const result = dotenv.config({ path: file, processEnv: {} })
  if (result.error) throw result.error
  return result.parsed
}

function parseAll (cases) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-dotenv-'))
  try {
    return cases.map((c, i) => parseCase(c, tmp, i))
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

if (process.argv[2] === '--record') {
  const file = process.argv[3]
  const table = JSON.parse(fs.readFileSync(file, 'utf8'))
  const parsed = parseAll(table.cases)
  table.recorded_with = `dotenv@${version}, node ${process.version}`
  table.cases = table.cases.map((c, i) => ({ ...c, expected: parsed[i] }))
  // Invisible characters (NEL, no-break and other odd spaces, U+2028,
  // the byte order mark) as escapes, so that the file shows what it tests.
  const text = JSON.stringify(table, null, 2).replace(
    /[\u007f-\u00a0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
  fs.writeFileSync(file, text + '\n')
} else {
  const cases = JSON.parse(fs.readFileSync(0, 'utf8'))
  process.stdout.write(JSON.stringify(parseAll(cases)))
}
