// Plain JavaScript on purpose: it must run, and explain itself, on a Node too old to run the TypeScript build.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `ktrdr-agent needs Node.js 22.18 or newer to build (the build script is TypeScript run by Node's type stripping); this is v${process.versions.node}.\n` +
      'Install a current Node (https://nodejs.org, or `nvm install 24`) and run `npm ci && npm run build` again.\n',
  );
  process.exit(1);
}
