// Render many Mermaid files in one Chromium page: node mmd_render.mjs TOOLS_DIR [--png] FILE...
// writes FILE.svg (and FILE.png with --png) beside each input; exit 1 if any failed.
//
// What `mmdc` does for each diagram, done once for all of them: open mermaid-cli's own page
// (dist/index.html), load the mermaid that mermaid-cli depends on, mermaid.initialize with
// mmdc's defaults, then mermaid.render each definition into #container and serialize the
// SVG with XMLSerializer (as mmdc's renderMermaid does). Loading mermaid once instead of
// once per diagram (mermaid-cli's renderMermaid opens a new page each time) is what keeps a
// corpus of dozens of diagrams to a few seconds.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const args = process.argv.slice(2);
const tools = args.shift();
const png = args[0] === '--png' ? (args.shift(), true) : false;
const modules = path.join(tools, 'node_modules');
const { default: puppeteer } = await import(
  pathToFileURL(path.join(modules, 'puppeteer/lib/esm/puppeteer/puppeteer.js')).href);
const config = JSON.parse(readFileSync(path.join(tools, 'puppeteer.json'), 'utf8'));
const browser = await puppeteer.launch(config);
let rc = 0;
try {
  const page = await browser.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') console.error(msg.text()); });
  await page.setViewport({ width: 800, height: 600, deviceScaleFactor: 2 });
  await page.goto(pathToFileURL(
    path.join(modules, '@mermaid-js/mermaid-cli/dist/index.html')).href);
  await page.addScriptTag({ path: path.join(modules, 'mermaid/dist/mermaid.min.js') });
  await page.evaluate(async () => {
    await Promise.all(Array.from(document.fonts, (font) => font.load()));
    window.mermaid.initialize({ startOnLoad: false });
    document.body.style.background = 'white';
  });
  for (const file of args) {
    const definition = readFileSync(file, 'utf8');
    const base = file.replace(/\.[^.\/]+$/, '');
    try {
      const svg = await page.$eval('#container', async (container, definition) => {
        container.innerHTML = '';
        const { svg } = await window.mermaid.render('my-svg', definition, container);
        container.innerHTML = svg;
        const element = container.getElementsByTagName('svg')[0];
        element.style.backgroundColor = 'white';
        return new XMLSerializer().serializeToString(element);
      }, definition);
      writeFileSync(base + '.svg', svg);
      if (png) {
        const element = await page.$('#container svg');
        await element.screenshot({ path: base + '.png' });
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
