// GET / : the app's one static page. It talks to the API with relative URLs, so it works both at
// the API's own host and under Nimbus's /_api/{apiId}/ path.
import type { HttpEvent, HttpResult } from './http.js';

const page = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Nimbus Notes</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.6rem; margin-bottom: 0; }
  .muted { color: #777; font-size: .9rem; }
  form { display: grid; gap: .5rem; margin: 1.5rem 0; }
  input, textarea, button { font: inherit; padding: .4rem .6rem; }
  li { margin: .6rem 0; }
  li button { margin-left: .5rem; font-size: .8rem; }
</style>
</head>
<body>
<h1>Nimbus Notes</h1>
<p class="muted" id="stats">Loading...</p>
<form id="new">
  <input name="title" placeholder="Title" required maxlength="200">
  <textarea name="text" rows="3" placeholder="Write something"></textarea>
  <button>Add note</button>
</form>
<ul id="notes"></ul>
<p class="muted">Served by a Lambda function behind an HTTP API; notes live in DynamoDB; an SNS topic fans each
change out to an SQS queue whose function counts words; a scheduled function writes the digest.</p>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
async function refresh() {
  const [{ notes }, stats] = await Promise.all([fetch('notes').then((r) => r.json()), fetch('stats').then((r) => r.json())]);
  $('notes').innerHTML = notes.map((n) =>
    '<li><b>' + esc(n.title) + '</b> ' + esc(n.text) + ' <span class="muted">' + (n.words ?? '?') + ' words</span>' +
    '<button data-id="' + esc(n.id) + '">delete</button></li>').join('');
  $('stats').textContent = stats.notes + ' notes, ' + stats.words + ' words (stage ' + stats.stage + ')' +
    (stats.digest ? '; digest at ' + stats.digest.at + ': ' + stats.digest.count + ' notes' : '');
}
$('new').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  await fetch('notes', { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: f.get('title'), text: f.get('text') }) });
  e.target.reset();
  setTimeout(refresh, 300);
});
$('notes').addEventListener('click', async (e) => {
  if (!e.target.dataset.id) return;
  await fetch('notes/' + encodeURIComponent(e.target.dataset.id), { method: 'DELETE' });
  setTimeout(refresh, 300);
});
refresh();
setInterval(refresh, 5000);
</script>
</body>
</html>
`;

export async function handler(_event: HttpEvent): Promise<HttpResult> {
  return { statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: page };
}
