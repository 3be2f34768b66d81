export { runbookInterpreter } from './runbook-interpreter.js';
