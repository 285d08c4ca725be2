// A Node program in the CommonJS style: require() of Node's modules, no
// import and no export, output through process.stdout and a child's stdout
// piped into it, the exit status through process.exitCode. Run by
// tests/tests/guests/node_child_process.rs (`node_require`).
const { execFile, spawn } = require('child_process');
const util = require('node:util');
const EventEmitter = require('events');

console.log(`EventEmitter: ${typeof EventEmitter} ${new EventEmitter() instanceof EventEmitter}`);
console.log(`promisify: ${typeof util.promisify}`);

execFile('echo', ['from require'], (err, stdout) => {
  if (err) throw err;
  process.stdout.write(`execFile: ${stdout}`);
  const child = spawn('printf', ['piped to stdout\\n']);
  child.stdout.pipe(process.stdout);
  child.on('close', (code) => {
    console.log(`close ${code}`);
    process.exitCode = 5;
  });
});
