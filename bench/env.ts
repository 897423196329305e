// Printed before every benchmark run: figures mean nothing without Node version, CPU and git sha
// (the same environment summary.json records, src/report/environment.ts).
import { environmentLine, readEnvironment } from '../src/report/environment.js';

console.log(environmentLine(readEnvironment()));
