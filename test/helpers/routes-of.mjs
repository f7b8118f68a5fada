// Prints the routes an Express app module declares, as JSON: [{ "method": "GET", "path": "/" }].
// Run with the lesson's environment (the app may read its data at import).
const [appFile] = process.argv.slice(2);
const { default: app } = await import(new URL(`file://${appFile}`).href);
const routes = [];
const walk = (stack) => {
  for (const layer of stack ?? []) {
    if (layer.route) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') routes.push({ method: method.toUpperCase(), path: layer.route.path });
      }
    } else if (layer.handle?.stack) walk(layer.handle.stack);
  }
};
walk((app.router ?? app._router)?.stack);
process.stdout.write(`${JSON.stringify(routes)}\n`);
process.exit(0);
