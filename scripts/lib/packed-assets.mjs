// Prints "name start end" for each file packed in a MediaPipe *_packed_assets.data, read from the
// loadPackage({...}) call in its *_packed_assets_loader.js.
import { readFileSync } from 'node:fs';

const source = readFileSync(process.argv[2], 'utf8');
const match = source.match(/loadPackage\((\{"files":.*\})\);/);
if (!match) {
  console.error(`${process.argv[2]}: no loadPackage({"files": ...}) call found`);
  process.exit(1);
}
for (const file of JSON.parse(match[1]).files) {
  if (!Number.isInteger(file.start) || !Number.isInteger(file.end) || file.end < file.start) {
    console.error(`${process.argv[2]}: bad offsets for ${file.filename}`);
    process.exit(1);
  }
  console.log(`${file.filename.split('/').pop()} ${file.start} ${file.end}`);
}
