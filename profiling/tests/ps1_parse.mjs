// node ps1_parse.mjs PARSER_DIR FILE.ps1...: parses each file with
// tree-sitter's PowerShell grammar, installed in PARSER_DIR by
// `npm install tree-sitter@0.25 tree-sitter-powershell@0.26.4`, and lists
// every ERROR or MISSING node. Exit 0: all parse; 1: one does not; 2: usage.
// This is a grammar's parse, not PowerShell's own parser (there is no
// PowerShell on Linux here): it catches unbalanced or malformed syntax.
import fs from 'fs';
import path from 'path';
import { pathToFileURL } from 'url';

const [dir, ...files] = process.argv.slice(2);
if (!dir || files.length === 0) {
  console.error('usage: node ps1_parse.mjs PARSER_DIR FILE.ps1...');
  process.exit(2);
}
const mod = (name, entry) =>
  import(pathToFileURL(path.join(dir, 'node_modules', name, entry)).href);
const Parser = (await mod('tree-sitter', 'index.js')).default;
const PowerShell = (await mod('tree-sitter-powershell', 'bindings/node/index.js')).default;

const parser = new Parser();
parser.setLanguage(PowerShell);
let failed = 0;
for (const file of files) {
  const tree = parser.parse(fs.readFileSync(file, 'utf8'));
  const bad = [];
  const walk = (node) => {
    if (node.type === 'ERROR' || node.isMissing) {
      bad.push(`${node.isMissing ? 'missing ' + node.type : 'syntax error'} at ` +
               `${node.startPosition.row + 1}:${node.startPosition.column + 1}`);
    }
    for (const child of node.children) walk(child);
  };
  walk(tree.rootNode);
  if (bad.length) failed = 1;
  console.log(bad.length ? `${file}: does not parse:\n  ${bad.join('\n  ')}` : `${file}: parses`);
}
process.exit(failed);
