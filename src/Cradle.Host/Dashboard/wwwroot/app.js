// The Cradle host dashboard: one page over the JSON API (/api/v1, docs/api.md), live through
// server-sent events. No framework; every name from a device is set as text, never as HTML.
'use strict';

// `loaded` says which lists have arrived: until then the page says "loading", never "none".
const state = { host: null, devices: [], pending: [], sessions: { live: [], ended: [] }, loaded: { devices: false, pending: false, sessions: false } };

// --- the API ------------------------------------------------------------------------------

async function api(path, options = {}) {
  const headers = { 'X-Cradle-Request': '1' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch('/api/v1' + path, {
    method: options.method || 'GET', headers, credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function connectEvents() {
  const status = document.getElementById('stream-state');
  const events = new EventSource('/api/v1/events');
  events.onopen = () => { status.className = 'live'; status.textContent = 'live'; };
  events.onerror = () => { status.className = 'down'; status.textContent = 'reconnecting'; };
  events.addEventListener('sessions', e => arrived('sessions', JSON.parse(e.data)));
  events.addEventListener('devices', e => arrived('devices', JSON.parse(e.data)));
  events.addEventListener('pending', e => arrived('pending', JSON.parse(e.data)));
}

function arrived(what, value) {
  state[what] = value;
  state.loaded[what] = true;
  changed(what);
}

// The lists once at the start, so that the page need not wait for the event stream's first message.
async function loadLists() {
  const [devices, pending, sessions] = await Promise.all([api('/devices'), api('/pending'), api('/sessions')]);
  if (!state.loaded.devices) arrived('devices', devices);
  if (!state.loaded.pending) arrived('pending', pending);
  if (!state.loaded.sessions) arrived('sessions', sessions);
}

function loading(what) {
  return h('div', { class: 'loading', role: 'status' }, `Loading ${what}…`);
}

// --- building the page --------------------------------------------------------------------

function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = value;
    else element.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function table(headers, rows, empty) {
  if (rows.length === 0) return h('div', { class: 'empty' }, empty);
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map(x => h('th', { class: x.endsWith(' ') ? 'num' : '' }, x.trim())))),
    h('tbody', {}, rows));
}

const num = (...children) => h('td', { class: 'num' }, ...children);

// What the colours mean, everywhere: green, all is well; amber, look soon (overdue, suspect,
// unconfirmed, waiting for approval); red, something is missing or failed (a partial or empty
// snapshot, a damaged store, a failed session); blue, neutral (live now).
const statusTags = {
  complete: ['ok', 'complete'],
  partial: ['bad', 'partial'],
  empty: ['bad', 'empty'],
  suspect: ['warn', 'most files vanished'],
};

function statusTag(status, note) {
  const [tone, word] = statusTags[status] || ['', status];
  return h('span', { class: `tag ${tone} status`, 'data-status': status, title: note || undefined }, word);
}

// The live session of a device, if it is connected now.
function liveSession(name) {
  return state.sessions.live.find(s => s.device && s.device.toLowerCase() === name.toLowerCase());
}

// The port devices connect to on this host (the real one, not the default).
function sessionsPort() {
  const bound = state.host && state.host.sessions;
  return bound ? bound.slice(bound.lastIndexOf(':') + 1) : '5679';
}

function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n, unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function when(iso) {
  if (!iso) return 'never';
  const t = new Date(iso);
  const seconds = (Date.now() - t.getTime()) / 1000;
  const ago = seconds < 60 ? 'just now' : seconds < 3600 ? `${Math.round(seconds / 60)} min ago`
    : seconds < 86400 ? `${Math.round(seconds / 3600)} h ago` : `${Math.round(seconds / 86400)} d ago`;
  return h('span', { title: t.toLocaleString() }, ago);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

function say(text, isError) {
  const box = document.getElementById('message');
  box.textContent = text;
  box.className = isError ? 'error' : '';
  box.hidden = !text;
}

async function act(button, work) {
  button.disabled = true;
  try { say(await work()); } catch (e) { say(e.message, true); } finally { button.disabled = false; }
}

// --- views ----------------------------------------------------------------------------------

const views = {
  devices: { render: renderDevices, on: ['devices', 'sessions', 'pending'] },
  device: { render: renderDevice, on: [] },
  sessions: { render: renderSessions, on: ['sessions'] },
  pending: { render: renderPending, on: ['pending'] },
  'get-connected': { render: renderGetConnected, on: [] },
  health: { render: renderHealth, on: [] },
};

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const name = views[parts[0]] ? parts[0] : 'devices';
  return { name, args: parts.slice(1) };
}

function show() {
  const { name, args } = route();
  for (const link of document.querySelectorAll('nav a')) link.classList.toggle('active', link.dataset.view === name);
  const view = document.getElementById('view');
  view.dataset.view = name;
  Promise.resolve(views[name].render(args)).then(content => view.replaceChildren(...[content].flat().filter(x => x !== null && x !== undefined && x !== false)))
    .catch(e => view.replaceChildren(h('div', { class: 'empty' }, e.message)));
}

function changed(what) {
  const live = state.sessions.live.length;
  badge('live-count', live);
  badge('pending-count', state.pending.length);
  if (views[route().name].on.includes(what)) show();
}

function badge(id, count) {
  const element = document.getElementById(id);
  element.textContent = count;
  element.hidden = count === 0;
}

function renderDevices() {
  if (!state.loaded.devices) return [h('h2', {}, 'Devices and partnerships'), loading('the devices')];
  const rows = state.devices.map(d => {
    const live = liveSession(d.name);
    return h('tr', { 'data-device': d.name },
      h('td', {}, h('a', { href: `#/device/${encodeURIComponent(d.name)}` }, d.name),
        d.confirmed ? null : h('span', { class: 'tag warn', title: 'the device has not yet shown that it stored this partnership; a new pairing under its name replaces it' }, 'unconfirmed')),
      h('td', { class: 'now' }, live
        ? h('span', { class: 'tag info connected', title: `connected since ${new Date(live.started).toLocaleString()}: ${live.phase}` }, `connected now · ${live.link}`)
        : h('span', { class: 'muted' }, d.lastLink ? `last over ${d.lastLink}` : 'never connected')),
      h('td', {}, h('code', {}, d.numberHex)),
      h('td', { class: 'last-backup' }, when(d.lastBackup), ' ',
        d.overdue ? h('span', { class: 'tag warn overdue', title: `no backup for more than ${state.host ? state.host.overdueAfterHours : 24} hours` }, 'overdue') : null),
      h('td', { class: 'last-snapshot' }, d.lastSnapshot
        ? [h('a', { href: `#/device/${encodeURIComponent(d.name)}/${d.lastSnapshot}` }, `#${d.lastSnapshot}`), ' ', statusTag(d.lastStatus, d.lastNote),
          d.lastNote ? h('div', { class: 'reason' }, d.lastNote) : null]
        : h('span', { class: 'muted' }, 'none yet')),
      num(bytes(d.bytes)),
      num(d.snapshots));
  });
  const port = sessionsPort();
  return [
    h('h2', {}, 'Devices and partnerships'),
    table(['Device', 'Now', 'Partnership', 'Last backup', 'Last snapshot', 'Size ', 'Snapshots '], rows,
      h('span', { id: 'no-devices' }, `No device has partnered with this host yet. On a device: cradle device connect --host ${state.host ? hostName() : 'THIS-HOST'}:${port}`)),
    state.pending.length ? h('p', {}, h('a', { href: '#/pending' }, `${state.pending.length === 1 ? '1 partnership waits' : `${state.pending.length} partnerships wait`} for approval`)) : null,
    h('p', { class: 'legend muted' }, 'Colours: ', h('span', { class: 'tag ok' }, 'all is well'), ' ', h('span', { class: 'tag warn' }, 'look soon'), ' ',
      h('span', { class: 'tag bad' }, 'something is missing or failed'), ' ', h('span', { class: 'tag info' }, 'live now')),
  ];
}

// The host's address as a device would type it: the one it listens on, or this page's name when it listens everywhere.
function hostName() {
  const bound = state.host.sessions || '';
  const address = bound.slice(0, bound.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return address === '0.0.0.0' || address === '::' || address === '' ? location.hostname : address;
}

async function renderDevice([name, snapshotId, ...folder]) {
  const snapshots = await api(`/devices/${encodeURIComponent(name)}/snapshots`);
  const devices = state.devices.length ? state.devices : await api('/devices');
  const device = devices.find(d => d.name.toLowerCase() === name.toLowerCase());
  const forget = h('button', { class: 'danger', id: 'forget', onclick: e => forgetDevice(e.target, name) }, 'Forget this device…');
  const header = [
    h('p', { class: 'crumbs' }, h('a', { href: '#/devices' }, 'Devices'), h('span', { class: 'sep' }, '/'), name),
    device ? h('div', { class: 'row' },
      h('span', {}, 'Partnership ', h('code', {}, device.numberHex)), h('span', {}, 'last backup ', when(device.lastBackup)),
      device.overdue ? h('span', { class: 'tag warn overdue' }, 'overdue') : null,
      liveSession(name) ? h('span', { class: 'tag info connected' }, `connected now · ${liveSession(name).link}`) : null, forget)
      : h('p', { class: 'muted' }, 'No partnership (forgotten); its snapshots are kept.'),
  ];
  const chosen = snapshotId ? snapshots.find(s => String(s.id) === snapshotId) : snapshots[snapshots.length - 1];
  const rows = snapshots.slice().reverse().map(s => h('tr', { 'data-snapshot': s.id },
    h('td', {}, h('a', { href: `#/device/${encodeURIComponent(name)}/${s.id}` }, s.id === chosen?.id ? h('b', {}, `#${s.id}`) : `#${s.id}`)),
    h('td', {}, new Date(s.time).toLocaleString()), h('td', {}, s.link), num(s.files), num(bytes(s.bytes)),
    h('td', { class: 'status' }, statusTag(s.status, s.note), s.note ? h('div', { class: 'reason' }, s.note) : null),
    h('td', {}, s.verified ? h('span', { title: 'a later backup found exactly these files again' }, 'unchanged at ', when(s.verified)) : '')));
  const list = [h('h2', {}, 'Snapshots'), table(['Snapshot', 'Time', 'Link', 'Files ', 'Size ', 'Status', 'Verified'], rows, 'No snapshots.')];
  if (!chosen) return [...header, ...list];
  return [...header, ...list, await renderBrowser(name, chosen, folder.join('/'))];
}

async function renderBrowser(name, snapshot, folder) {
  const listing = await api(`/snapshots/${snapshot.id}/entries?path=${encodeURIComponent(folder)}`);
  const base = `#/device/${encodeURIComponent(name)}/${snapshot.id}`;
  const crumbs = [h('a', { href: base }, `snapshot #${snapshot.id}`)];
  let walked = '';
  for (const part of folder ? folder.split('/') : []) {
    walked = walked ? `${walked}/${part}` : part;
    crumbs.push(h('span', { class: 'sep' }, '/'), h('a', { href: `${base}/${walked.split('/').map(encodeURIComponent).join('/')}` }, part));
  }
  const link = path => `${base}/${path.split('/').map(encodeURIComponent).join('/')}`;
  const rows = listing.entries.map(e => h('tr', { 'data-path': e.path },
    h('td', {}, e.kind === 'folder' ? h('a', { href: link(e.path) }, `📁 ${e.name}/`) : e.name,
      e.problem ? [' ', h('span', { class: 'tag bad problem', title: e.problem }, 'not read in this backup'), h('div', { class: 'reason' }, e.problem)] : null),
    num(bytes(e.size)), num(e.kind === 'folder' ? `${e.files} files` : ''),
    h('td', {}, e.modified ? new Date(e.modified).toLocaleString() : ''),
    h('td', {}, e.kind === 'file'
      ? h('a', { class: 'download', href: `/api/v1/snapshots/${snapshot.id}/file?path=${encodeURIComponent(e.path)}`, download: e.name }, 'Download')
      : h('a', { class: 'zip', href: `/api/v1/snapshots/${snapshot.id}/zip?path=${encodeURIComponent(e.path)}`, download: `${e.name}.zip` }, 'Download .zip'))));
  const target = h('input', { type: 'text', id: 'restore-to', placeholder: 'a new folder name (in the host\'s restore root)' });
  const restore = h('button', { id: 'restore', onclick: e => act(e.target, async () => {
    const done = await api(`/snapshots/${snapshot.id}/restore`, { method: 'POST', body: { to: target.value } });
    return `Restored snapshot #${done.snapshot} of ${done.device} into ${done.to}: ${done.files} files, ${bytes(done.bytes)}; every chunk verified.`;
  }) }, 'Restore');
  return h('div', { class: 'panel', id: 'browser' },
    h('div', { class: 'row' }, h('h2', {}, 'Files'), h('span', { class: 'crumbs' }, crumbs),
      h('a', { href: `/api/v1/snapshots/${snapshot.id}/zip?path=${encodeURIComponent(folder)}` }, 'Download this folder as .zip')),
    table(['Name', 'Size ', ' ', 'Modified', ''], rows, 'This folder is empty.'),
    h('h2', {}, 'Restore this snapshot to a folder on the host'),
    h('div', { class: 'row' }, target, restore));
}

async function forgetDevice(button, name) {
  const keep = confirm(`Keep ${name}'s snapshots?\n\nOK: release the name, keep the snapshots (restorable).\nCancel: choose whether to delete everything.`);
  if (!keep && !confirm(`Forget ${name} and DELETE all its snapshots? This cannot be undone.`)) return;
  await act(button, async () => {
    const done = await api(`/devices/${encodeURIComponent(name)}?keepBackups=${keep}`, { method: 'DELETE' });
    location.hash = '#/devices';
    return `Forgot ${done.device}: ${done.snapshotsRemoved} snapshots removed, ${done.snapshotsKept} kept. The name is free to partner again.`;
  });
}

// --- ActiveSync devices cradled now: rename (P5's way out, P8) and restore onto the device ----

async function renderCradled() {
  const devices = await api('/activesync/devices');
  const rows = devices.map(d => h('tr', { 'data-activesync': d.device, 'data-standing': d.standing || 'connecting' },
    h('td', {}, d.device), h('td', { class: 'muted' }, d.connection), h('td', {}, d.standing || 'connecting…'),
    h('td', {}, d.standing && h('div', { class: 'row' },
      h('button', { class: d.standing === 'partnered' ? 'rename' : 'primary rename', onclick: e => act(e.target, () => renameDevice(d)) }, 'Rename'),
      h('button', { class: 'restore-device', onclick: e => act(e.target, () => restoreToDevice(d)) }, 'Restore to device')))));
  return [
    h('h2', {}, 'Cradled Windows CE / Windows Mobile devices'),
    h('p', { class: 'muted' }, 'A device refused because another partnered under its name (P5) partners once it is renamed. Renaming ends every partnership the device holds (P8).'),
    table(['Device', 'From', 'Here', ''], rows, 'No ActiveSync device is cradled now.'),
  ];
}

async function renameDevice(device) {
  const newName = prompt(`New name for ${device.device} (1-15 letters, digits, - or _, starting with a letter):`);
  if (!newName) return '';
  if (!confirm(`Rename ${device.device} to ${newName}?\n\nThis ENDS EVERY PARTNERSHIP the device holds (P8), with this host and with any other PC. It then partners here as ${newName} and is backed up under that name; ${device.device}'s backups stay.`)) return '';
  const done = await api('/activesync/rename', { method: 'POST', body: { device: device.device, connection: device.connection, newName, consent: true } });
  return `Renamed ${done.oldName} to ${done.newName}; it partners under the new name when it connects again (in a few seconds).`;
}

async function restoreToDevice(device) {
  const guest = device.standing === 'guest';
  if (!confirm(`Restore the newest snapshot of ${device.device} onto the device? Its files are written over the ones on the device.${guest ? '\n\nIt is a GUEST here (two other hosts hold its partnerships): restoring onto it needs your consent.' : ''}`)) return '';
  const response = await fetch(`/api/v1/devices/${encodeURIComponent(device.device)}/restore-to-device`, {
    method: 'POST', credentials: 'same-origin', headers: { 'X-Cradle-Request': '1', 'Content-Type': 'application/json' },
    body: JSON.stringify({ allowGuest: guest }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error((() => { try { return JSON.parse(text).error; } catch { return `${response.status} ${response.statusText}`; } })());
  // One JSON line per step; the last says how it ended.
  const lines = text.split('\n').filter(l => l.trim());
  const last = lines.length ? JSON.parse(lines[lines.length - 1]) : { event: 'failed', error: 'the host gave no outcome' };
  if (last.event === 'failed') throw new Error(`The restore onto ${device.device} failed: ${last.error}`);
  const r = last.result;
  const failed = r.failed.length ? ` NOT restored: ${r.failed.map(f => `${f.path} (${f.reason})`).join('; ')}.` : '';
  if (r.interrupted) throw new Error(`The restore onto ${device.device} was interrupted after ${r.files} files: ${r.interrupted}`);
  if (failed) throw new Error(`Restored snapshot ${r.snapshot} onto ${device.device}: ${r.files} files.${failed}`);
  return `Restored snapshot ${r.snapshot} onto ${device.device}: ${r.files} files, ${bytes(r.bytes)}.`;
}

async function renderSessions() {
  const phase = s => s.phase === 'waiting-approval'
    ? h('span', {}, 'waiting for approval, code ', h('a', { href: '#/pending', class: 'code' }, s.code)) : s.phase;
  const progress = s => {
    if (!s.bytesTotal) return s.phase === 'backing-up' || s.phase === 'restoring' ? bytes(s.bytesDone) : '';
    const percent = Math.floor(100 * s.bytesDone / s.bytesTotal);
    return h('span', {}, h('progress', { max: s.bytesTotal, value: s.bytesDone }), ' ',
      h('span', { class: 'percent' }, `${percent}%`), h('span', { class: 'muted' }, ` ${bytes(s.bytesDone)} of ${bytes(s.bytesTotal)}, ${s.filesDone}/${s.filesTotal} files`));
  };
  const live = state.sessions.live.map(s => h('tr', { 'data-session': s.id, 'data-phase': s.phase },
    h('td', {}, s.device || '…'), h('td', {}, s.link), h('td', { class: 'muted' }, s.remote), h('td', { class: 'phase' }, phase(s)),
    h('td', { class: 'progress' }, progress(s)), num(s.rate === null ? '–' : `${bytes(s.rate)}/s`), num(duration(s.etaSeconds))));
  const ended = state.sessions.ended.map(s => h('tr', { 'data-session': s.id },
    h('td', {}, s.device || '?'), h('td', {}, s.link), h('td', { class: 'muted' }, s.remote), h('td', {}, when(s.phaseStarted || s.started)),
    h('td', {}, s.outcome === 'goodbye' ? h('span', { class: 'tag ok' }, 'finished') : h('span', { class: 'tag bad', title: s.outcome }, s.outcome))));
  if (!state.loaded.sessions) return [h('h2', {}, 'Live sessions'), loading('the sessions')];
  return [
    ...await renderCradled(),
    h('h2', {}, 'Live sessions'),
    table(['Device', 'Link', 'From', 'Phase', 'Progress', 'Rate ', 'ETA '], live, 'No device is connected now.'),
    h('h2', {}, 'Recently ended'),
    table(['Device', 'Link', 'From', 'Ended', 'Outcome'], ended, 'None since the host started.'),
  ];
}

function renderPending() {
  const rows = state.pending.map(p => h('tr', { 'data-code': p.code },
    h('td', {}, h('span', { class: 'code' }, p.code)), h('td', {}, p.device), h('td', {}, h('code', {}, p.number.toString(16).toUpperCase().padStart(8, '0'))),
    h('td', { class: 'muted' }, p.address), h('td', {}, when(p.created)),
    h('td', {}, h('div', { class: 'row' },
      h('button', { class: 'primary approve', onclick: e => act(e.target, () => decide(p, 'approve')) }, 'Approve'),
      h('button', { class: 'danger deny', onclick: e => act(e.target, () => decide(p, 'deny')) }, 'Deny')))));
  if (!state.loaded.pending) return [h('h2', {}, 'Partnerships waiting for approval'), loading('the waiting partnerships')];
  return [
    h('h2', {}, 'Partnerships waiting for approval'),
    h('p', { class: 'muted' }, 'Approve only when the device shows the same code.'),
    table(['Code', 'Device', 'Number', 'From', 'Asked', ''], rows, 'Nothing waits for approval.'),
  ];
}

async function decide(pending, verb) {
  const done = await api(`/pending/${encodeURIComponent(pending.code)}/${verb}`, { method: 'POST' });
  // The host's outcome, not just the click: the device may have left, or another may have taken the name.
  if (done.outcome !== 'created' && done.outcome !== 'denied') throw new Error(done.message);
  return `${verb === 'approve' ? 'Approved' : 'Denied'} ${pending.device} (code ${pending.code}).`;
}

function renderGetConnected() {
  const results = h('div', { id: 'scan-results' });
  const extra = h('input', { type: 'text', id: 'scan-ports', placeholder: 'extra ports, comma separated (optional): /dev/ttyUSB0' });
  const scan = h('button', { class: 'primary', id: 'scan', onclick: e => act(e.target, async () => {
    results.replaceChildren(h('p', { class: 'muted' }, 'Scanning… a device running "cradle device connect --serial" is found at its rate.'));
    const ports = extra.value.split(',').map(x => x.trim()).filter(x => x);
    const rows = await api('/get-connected', { method: 'POST', body: { ports } });
    const labels = { device: 'ok', watched: 'ok', noise: 'warn', silent: '', unavailable: 'bad' };
    results.replaceChildren(table(['Port', 'Result', 'Device', 'Rate ', 'Detail', ''], rows.map(r => h('tr', { 'data-port': r.port },
      h('td', {}, h('code', {}, r.port)), h('td', {}, h('span', { class: `tag ${labels[r.result] || ''}` }, r.result)),
      h('td', {}, r.device || ''), num(r.baud || ''), h('td', { class: 'muted' }, r.detail || (r.ratesTried.length ? `tried ${r.ratesTried.join('/')} baud` : '')),
      h('td', {}, r.result === 'device' ? h('button', { class: 'primary connect', onclick: e => act(e.target, () => watch(r)) }, 'Connect') : null))),
    'No serial ports on this host.'));
    const found = rows.filter(r => r.result === 'device');
    return found.length ? `Found ${found.map(r => `${r.device} on ${r.port} at ${r.baud} baud`).join(', ')}. Connect to back it up now.` : 'No device found.';
  }) }, 'Scan serial ports');
  const watched = state.host ? state.host.serialPorts : [];
  return [
    h('h2', {}, 'Get Connected'),
    h('p', {}, 'Scans every serial port at the common rates for a device that offers a session (on the device: ',
      h('code', {}, 'cradle device connect --serial PORT'), ').'),
    watched.length ? h('p', { class: 'muted' }, `This host already watches ${watched.join(', ')}; devices there connect by themselves.`) : null,
    h('div', { class: 'row' }, extra, scan), results,
  ];
}

// The host watches the port from now on (until it stops): the device, still offering, connects.
async function watch(row) {
  const done = await api('/serial-ports', { method: 'POST', body: { port: row.port, baud: row.baud } });
  if (state.host && !state.host.serialPorts.includes(done.port)) state.host.serialPorts.push(done.port);
  const kept = `To keep it after a restart: cradle host run --serial ${done.port}.`;
  return done.started
    ? `Connecting ${row.device} on ${done.port}: the host watches the port now; the session shows under Sessions. ${kept}`
    : `The host already watches ${done.port}. ${kept}`;
}

async function renderHealth() {
  const [health, snapshots] = await Promise.all([api('/health'), api('/snapshots')]);
  const check = health.lastCheck;
  const stat = (label, value, id) => h('div', { class: 'stat', id }, h('div', { class: 'value' }, value), h('div', { class: 'label' }, label));
  const run = h('button', { id: 'run-check', onclick: e => act(e.target, async () => {
    const report = await api('/check', { method: 'POST', body: { readData: false } });
    show();
    return report.ok ? 'Check finished: no problems.' : `Check found ${report.problems.length} problems: ${report.problems.map(p => p.detail).join('; ')}`;
  }) }, 'Check now');
  return [
    h('h2', {}, 'Repository health'),
    h('div', { class: 'row panel' }, 'Last check: ',
      check ? [when(check.time), ' ', h('span', { class: `tag ${check.ok ? 'ok' : 'bad'}` }, check.ok ? 'no problems' : `${check.problems} problems`),
        check.readData ? ' (all data read)' : ' (structure; cradle host check --read-data reads every chunk)'] : h('span', { class: 'tag warn' }, 'never'),
      run),
    h('div', { class: 'stats' },
      stat('space used', bytes(health.spaceUsed), 'space-used'), stat('free on the disk', bytes(health.diskFree)),
      stat('deduplication', `${health.dedupRatio.toFixed(2)}×`, 'dedup'), stat('compression', `${health.compressionRatio.toFixed(2)}×`, 'compression'),
      stat('devices', health.devices), stat('snapshots', health.snapshots), stat('backed-up bytes (all snapshots)', bytes(health.snapshotBytes)),
      stat('unique bytes', bytes(health.uniqueBytes)), stat('packs', `${health.packs} (${bytes(health.packBytes)})`)),
    h('h2', {}, 'Backup size over time'),
    chart(snapshots),
  ];
}

// An inline SVG line per device: each snapshot's size at its time.
function chart(snapshots) {
  if (snapshots.length === 0) return h('div', { class: 'empty' }, 'No snapshots yet.');
  const ns = 'http://www.w3.org/2000/svg';
  const svg = (tag, attributes, text) => {
    const element = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, v);
    if (text !== undefined) element.textContent = text;
    return element;
  };
  const width = 900, height = 300, left = 70, right = 150, top = 15, bottom = 30;
  const times = snapshots.map(s => new Date(s.time).getTime());
  const t0 = Math.min(...times), t1 = Math.max(...times), maxBytes = Math.max(1, ...snapshots.map(s => s.bytes));
  const x = t => left + (t1 === t0 ? (width - left - right) / 2 : (t - t0) / (t1 - t0) * (width - left - right));
  const y = b => top + (1 - b / maxBytes) * (height - top - bottom);
  const root = svg('svg', { class: 'chart', id: 'size-chart', viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': 'backup size over time per device' });
  root.append(svg('line', { x1: left, y1: y(0), x2: width - right, y2: y(0), stroke: '#dde1e8' }));
  for (const fraction of [0, 0.5, 1]) {
    root.append(svg('text', { x: left - 8, y: y(maxBytes * fraction) + 4, 'text-anchor': 'end' }, bytes(Math.round(maxBytes * fraction))));
  }
  root.append(svg('text', { x: left, y: height - 8 }, new Date(t0).toLocaleString()));
  root.append(svg('text', { x: width - right, y: height - 8, 'text-anchor': 'end' }, new Date(t1).toLocaleString()));
  const colors = ['#1f6feb', '#e36209', '#2e7d32', '#8250df', '#c62828', '#0a7ea4', '#b26a00'];
  const devices = [...new Set(snapshots.map(s => s.device))];
  devices.forEach((device, i) => {
    const color = colors[i % colors.length];
    const mine = snapshots.filter(s => s.device === device);
    const points = mine.map(s => `${x(new Date(s.time).getTime()).toFixed(1)},${y(s.bytes).toFixed(1)}`).join(' ');
    root.append(svg('polyline', { points, fill: 'none', stroke: color, 'stroke-width': 2, 'data-device': device }));
    for (const s of mine) {
      const dot = svg('circle', { cx: x(new Date(s.time).getTime()), cy: y(s.bytes), r: 3.5, fill: color });
      dot.append(svg('title', {}, `${device} #${s.id}: ${bytes(s.bytes)}, ${new Date(s.time).toLocaleString()}`));
      root.append(dot);
    }
    root.append(svg('rect', { x: width - right + 16, y: top + i * 18, width: 10, height: 10, fill: color }));
    root.append(svg('text', { x: width - right + 32, y: top + i * 18 + 9 }, device));
  });
  return root;
}

// --- start ----------------------------------------------------------------------------------

window.addEventListener('hashchange', () => { say(''); show(); });
api('/host').then(host => {
  state.host = host;
  document.getElementById('host-name').textContent = host.name;
  document.title = `Cradle host ${host.name}`;
  show();
}).catch(e => say(e.message, true));
connectEvents();
loadLists().catch(e => say(e.message, true));
show();
