// Render many Mermaid files in one Chromium session, through mermaid-cli's own renderMermaid
// (the code `mmdc` runs): node mmd_render.mjs TOOLS_DIR [--png] [--config JSON] FILE.mmd...
// writes FILE.svg (and FILE.png with --png) beside each input; exit 1 if any failed.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const args = process.argv.slice(2);
const tools = args.shift();
const png = args[0] === '--png' ? (args.shift(), true) : false;
let mermaidConfig = {};
if (args[0] === '--config') { args.shift(); mermaidConfig = JSON.parse(args.shift()); }
const mod = (p) => import(pathToFileURL(path.join(tools, 'node_modules', p)).href);
const { renderMermaid } = await mod('@mermaid-js/mermaid-cli/src/index.js');
const { default: puppeteer } = await mod('puppeteer/lib/esm/puppeteer/puppeteer.js');
const config = JSON.parse(readFileSync(path.join(tools, 'puppeteer.json'), 'utf8'));
const browser = await puppeteer.launch(config);
let rc = 0;
try {
  for (const file of args) {
    const definition = readFileSync(file, 'utf8');
    const base = file.replace(/\.[^.\/]+$/, '');
    try {
      const svg = await renderMermaid(browser, definition, 'svg', { mermaidConfig });
      writeFileSync(base + '.svg', svg.data);
      if (png) {
        const image = await renderMermaid(browser, definition, 'png',
                                          { mermaidConfig, viewport: { width: 800, height: 600, deviceScaleFactor: 2 } });
        writeFileSync(base + '.png', image.data);
      }
    } catch (e) {
      rc = 1;
      console.error(`${file}: ${e.message ?? e}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(rc);
