// Sequential latency probe, run as a second process by the bench: node latency-probe.mjs URL N
// Prints {"p50": ms, "p99": ms} over N keep-alive GETs, after 300 warm-up requests.
import http from 'node:http';
const [url, n = '3000'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = () => new Promise((resolve, reject) => http.get(url, { agent }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
for (let i = 0; i < 300; i++) await get();
const t = [];
for (let i = 0; i < Number(n); i++) { const s = process.hrtime.bigint(); await get(); t.push(Number(process.hrtime.bigint() - s) / 1e6); }
t.sort((a, b) => a - b);
console.log(JSON.stringify({ p50: t[t.length >> 1], p99: t[Math.floor(t.length * 0.99)] }));
