// asf-match live demo page. Plain ES2020, no dependencies, no network beyond this origin.
// Every text that comes from the API reaches the page through textContent or a text node;
// no HTML is ever parsed from a string.
'use strict';

(() => {
  const API = '/api/v1';
  const KEY_STORAGE = 'asfmatch.demo.key';
  const REFRESH_MS = 5000;          // lists, health and the selected need's matches
  const SUPPLIERS_MS = 30000;       // the ASF register changes rarely
  const PENDING_MS = 1000;          // a need being ranked
  const FRESH_PENDING_MS = 200;     // a need just posted from this page, to time it closely
  const FRESH_WINDOW_MS = 6000;
  const MATCH_MAX_AGE_MS = 30000;   // other needs' match counts are refreshed in rotation
  const ROTATION_PER_TICK = 3;
  const FULL_MATCHES = 3;           // always explain at least the top three in full
  const STRONG_SCORE = 0.1;         // …and every match scoring at least this
  const THIN = '\u202F';            // narrow no-break space: thousands and before % and units

  // ---------------------------------------------------------------- state
  const state = {
    key: null,
    keyProblem: null,
    regions: [],
    kommun: new Map(),       // code -> {code, name, lan_code, lat, lon}
    lan: new Map(),          // code -> {code, name}
    geo: null,
    suppliers: new Map(),    // id -> supplier
    suppliersLoaded: false,
    needs: [],               // open needs, newest first
    needsLoaded: false,
    matches: new Map(),      // need id -> {status, matches, error, fetchedAt}
    health: null,
    selectedId: null,
    wantedId: null,          // from the URL (#need=3) until the needs are loaded
    lanFilter: '',
    posted: new Map(),       // need id -> performance.now() when this page posted it
    readyIn: new Map(),      // need id -> seconds from post to ready
    flash: new Set(),        // need ids to highlight once (new arrivals)
    pausedUntil: 0,          // after a 429, wait as the server asks
    lastUpdate: null,
  };

  // ---------------------------------------------------------------- DOM helpers
  const $ = (id) => document.getElementById(id);

  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    setProps(node, props);
    append(node, children);
    return node;
  }

  const SVG_NS = 'http://www.w3.org/2000/svg';
  function s(tag, props, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setProps(node, props);
    append(node, children);
    return node;
  }

  function setProps(node, props) {
    if (!props) return;
    for (const [name, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.setAttribute('class', value);
      else if (name === 'text') node.textContent = String(value);
      else if (name === 'dataset') Object.assign(node.dataset, value);
      else if (name === 'style') Object.assign(node.style, value);   // CSSOM: allowed by the CSP
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function replace(node, ...children) {
    node.replaceChildren();
    append(node, children);
  }

  // ---------------------------------------------------------------- Swedish formatting
  const intFormat = new Intl.NumberFormat('sv-SE', { maximumFractionDigits: 0 });
  const dateFormat = new Intl.DateTimeFormat('sv-SE', {
    day: 'numeric', month: 'short', year: 'numeric', timeZone: 'Europe/Stockholm',
  });
  const timeFormat = new Intl.DateTimeFormat('sv-SE', {
    hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: 'Europe/Stockholm',
  });

  const fmtInt = (n) => intFormat.format(n).replace(/[\s\u00A0]/g, THIN);
  const fmtSek = (n) => `${fmtInt(n)}${THIN}kr`;
  const fmtDecimal = (x, digits) => x.toFixed(digits).replace('.', ',');
  const fmtScore = (x) => fmtDecimal(Number(x) || 0, 2);
  function fmtPercent(percent) {
    const rounded = Math.round(percent * 10) / 10;
    const text = Number.isInteger(rounded) ? String(rounded) : fmtDecimal(rounded, 1);
    return `${text}${THIN}%`;
  }
  function fmtDate(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? '' : dateFormat.format(date);
  }
  const plural = (n, one, many) => `${fmtInt(n)} ${n === 1 ? one : many}`;

  const kommunName = (code) => (state.kommun.get(code) || {}).name || code;
  const lanName = (code) => (state.lan.get(code) || {}).name || `län ${code}`;
  const lanShort = (code) => lanName(code).replace(/s? län$/, '');

  const LEGAL_FORMS = {
    ekonomisk_forening: 'ekonomisk förening',
    aktiebolag: 'aktiebolag',
    ideell_forening: 'ideell förening',
    stiftelse: 'stiftelse',
    other: 'annan form',
  };

  // ---------------------------------------------------------------- the API
  class ApiError extends Error {
    constructor(status, message, problem) {
      super(message);
      this.status = status;
      this.problem = problem || null;
    }
  }

  async function api(path, { method = 'GET', body, auth = false, timeout = 8000, allow = [] } = {}) {
    const headers = { Accept: 'application/json' };
    if (auth && state.key) headers.Authorization = `Bearer ${state.key}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'omit',
        signal: controller.signal,
      });
    } catch (error) {
      throw new ApiError(0, controller.signal.aborted ? 'servern svarar inte' : 'nätverksfel');
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (response.ok || allow.includes(response.status)) return data;
    if (response.status === 429) {
      const wait = Number(response.headers.get('retry-after')) || 10;
      state.pausedUntil = Date.now() + wait * 1000;
    }
    const detail = data && typeof data.detail === 'string' ? data.detail : '';
    throw new ApiError(response.status, describeStatus(response.status, detail), data);
  }

  function describeStatus(status, detail) {
    if (status === 401) return 'nyckeln saknas eller gäller inte';
    if (status === 403) return 'nyckeln har inte behörighet';
    if (status === 404) return 'finns inte';
    if (status === 422) return 'ogiltiga uppgifter';
    if (status === 429) return 'för många anrop, väntar';
    if (status >= 500) return `serverfel (${status})`;
    return detail ? `fel ${status}: ${detail}` : `fel ${status}`;
  }

  async function allPages(path) {
    const items = [];
    for (let page = 1; page <= 100; page += 1) {
      const sep = path.includes('?') ? '&' : '?';
      const data = await api(`${path}${sep}page_size=100&page=${page}`);
      const batch = (data && Array.isArray(data.items)) ? data.items : [];
      items.push(...batch);
      if (batch.length === 0 || items.length >= (data.total || 0)) break;
    }
    return items;
  }

  // ---------------------------------------------------------------- failure banner
  const failures = new Map(); // source -> message

  const SOURCE_LABEL = {
    regions: 'län och kommuner',
    map: 'kartan',
    suppliers: 'ASF-registret',
    needs: 'öppna behov',
    health: 'serverstatus',
    matches: 'matchningar',
  };

  function failed(source, error) {
    const reason = error instanceof ApiError ? error.message : 'oväntat fel';
    failures.set(source, `Kunde inte hämta ${SOURCE_LABEL[source] || source}: ${reason}.`);
    showBanner();
    if (!(error instanceof ApiError)) console.error(error); // eslint-disable-line no-console
  }

  function recovered(source) {
    if (failures.delete(source)) showBanner();
  }

  function showBanner() {
    const banner = $('banner');
    if (failures.size === 0) {
      banner.hidden = true;
      return;
    }
    const [first] = failures.values();
    const more = failures.size > 1 ? ` (+${failures.size - 1})` : '';
    replace(banner, h('span', { class: 'banner-icon', 'aria-hidden': 'true', text: '!' }),
      `${first}${more} Försöker igen…`);
    banner.hidden = false;
  }

  let toastTimer = null;
  function toast(text) {
    const node = $('toast');
    replace(node, text);
    node.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { node.hidden = true; }, 6000);
  }

  // ---------------------------------------------------------------- the key
  function readLocation() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ''));
    const key = params.get('key');
    try {
      if (key) sessionStorage.setItem(KEY_STORAGE, key);
      state.key = sessionStorage.getItem(KEY_STORAGE);
    } catch (error) {
      state.key = key || state.key; // storage disabled: keep it for this page view only
    }
    const need = Number(params.get('need'));
    if (Number.isInteger(need) && need > 0) state.wantedId = need;
    const lan = params.get('lan');
    if (lan && /^\d{2}$/.test(lan)) state.lanFilter = lan;
    writeLocation();
  }

  // A key or need pasted into the address bar of an open page arrives as a hash change.
  function locationChanged() {
    const keyBefore = state.key;
    const filterBefore = state.lanFilter;
    readLocation();
    if (state.key !== keyBefore) {
      state.keyProblem = null;
      state.matches.clear();
      refresh();
    }
    if (state.wantedId && state.needsLoaded) {
      const wanted = state.wantedId;
      state.wantedId = null;
      if (state.needs.some((n) => n.id === wanted)) select(wanted);
    }
    if (state.lanFilter !== filterBefore) setLanFilter(state.lanFilter);
    renderAll();
  }

  // The key never stays in the visible URL; the selected need does, so a reload keeps it.
  function writeLocation() {
    const params = new URLSearchParams();
    if (state.selectedId || state.wantedId) params.set('need', String(state.selectedId || state.wantedId));
    if (state.lanFilter) params.set('lan', state.lanFilter);
    const hash = params.toString();
    history.replaceState(null, '', `${location.pathname}${location.search}${hash ? `#${hash}` : ''}`);
  }

  function dropKey(reason) {
    state.key = null;
    state.keyProblem = reason;
    try { sessionStorage.removeItem(KEY_STORAGE); } catch (error) { /* storage disabled */ }
    state.matches.clear();
    renderAll();
  }

  // ---------------------------------------------------------------- loading
  async function loadRegions() {
    try {
      const regions = await api(`${API}/regions`);
      state.regions = Array.isArray(regions) ? regions : [];
      for (const lan of state.regions) {
        state.lan.set(lan.code, { code: lan.code, name: lan.name });
        for (const k of lan.kommuner || []) state.kommun.set(k.code, k);
      }
      recovered('regions');
      return true;
    } catch (error) {
      failed('regions', error);
      return false;
    }
  }

  async function loadGeo() {
    try {
      const response = await fetch('/static/sweden_lan.geojson', { cache: 'no-store' });
      if (!response.ok) throw new ApiError(response.status, describeStatus(response.status, ''));
      state.geo = await response.json();
      recovered('map');
      return true;
    } catch (error) {
      failed('map', error instanceof ApiError ? error : new ApiError(0, 'nätverksfel'));
      return false;
    }
  }

  async function loadSuppliers() {
    try {
      const items = await allPages(`${API}/suppliers`);
      state.suppliers = new Map(items.map((item) => [item.id, item]));
      state.suppliersLoaded = true;
      recovered('suppliers');
    } catch (error) {
      failed('suppliers', error);
    }
  }

  async function loadNeeds() {
    try {
      const items = await allPages(`${API}/needs?status=open`);
      items.sort((a, b) => b.id - a.id);
      if (state.needsLoaded) {
        const known = new Set(state.needs.map((n) => n.id));
        const arrived = items.filter((need) => !known.has(need.id) && !state.posted.has(need.id));
        for (const need of arrived) state.flash.add(need.id);
        if (arrived.length) {
          const [first] = arrived;
          toast(arrived.length === 1
            ? `Nytt behov: ${first.title} (${kommunName(first.kommun)})`
            : `${arrived.length} nya behov`);
        }
      }
      state.needs = items;
      state.needsLoaded = true;
      recovered('needs');
      ensureSelection();
    } catch (error) {
      failed('needs', error);
    }
  }

  async function loadHealth() {
    try {
      state.health = await api('/health', { allow: [503] });
      recovered('health');
    } catch (error) {
      state.health = null;
      failed('health', error);
    }
  }

  async function loadMatches(needId) {
    if (!state.key) return;
    try {
      const data = await api(`${API}/needs/${needId}/matches`, { auth: true });
      const entry = {
        status: data.status === 'pending' ? 'pending' : 'ready',
        matches: Array.isArray(data.matches) ? data.matches : [],
        error: null,
        fetchedAt: Date.now(),
      };
      state.matches.set(needId, entry);
      if (entry.status === 'ready' && state.posted.has(needId) && !state.readyIn.has(needId)) {
        const seconds = (performance.now() - state.posted.get(needId)) / 1000;
        state.readyIn.set(needId, seconds);
        toast(`Klart på ${fmtDecimal(seconds, 1)} s: ${plural(entry.matches.length, 'matchning', 'matchningar')}`);
        loadHealth().then(renderAll);
      }
      recovered('matches');
    } catch (error) {
      if (error.status === 401) {
        dropKey('Nyckeln gäller inte längre. Öppna sidan via länken från asfmatch demo.');
        return;
      }
      if (error.status === 403 || error.status === 404) {
        state.matches.set(needId, { status: 'error', matches: [], error: error.message, fetchedAt: Date.now() });
        return;
      }
      failed('matches', error);
    }
  }

  function ensureSelection() {
    const ids = new Set(state.needs.map((n) => n.id));
    if (state.wantedId && ids.has(state.wantedId)) {
      state.selectedId = state.wantedId;
      state.wantedId = null;
      writeLocation();
    } else if (!state.selectedId || !ids.has(state.selectedId)) {
      if (state.wantedId && state.needsLoaded) state.wantedId = null; // not open (any more)
      const visible = visibleNeeds();
      state.selectedId = visible.length ? visible[0].id : null;
      writeLocation();
    }
  }

  // ---------------------------------------------------------------- loops
  let refreshing = false;
  async function refresh() {
    if (refreshing || Date.now() < state.pausedUntil) return;
    refreshing = true;
    try {
      await Promise.all([loadNeeds(), loadHealth()]);
      if (state.key) {
        const now = Date.now();
        const due = [];
        if (state.selectedId) due.push(state.selectedId);
        // Needs never fetched are fetched now (the counters want them); the others in rotation.
        const others = state.needs
          .filter((n) => n.id !== state.selectedId)
          .map((n) => ({ id: n.id, at: (state.matches.get(n.id) || {}).fetchedAt || 0 }));
        const unseen = others.filter((n) => n.at === 0).slice(0, 30);
        const stale = others
          .filter((n) => n.at > 0 && now - n.at > MATCH_MAX_AGE_MS)
          .sort((a, b) => a.at - b.at)
          .slice(0, ROTATION_PER_TICK);
        due.push(...unseen.map((n) => n.id), ...stale.map((n) => n.id));
        await Promise.all(due.map(loadMatches));
      }
      state.lastUpdate = new Date();
    } finally {
      refreshing = false;
      renderAll();
    }
  }

  async function pendingTick() {
    let next = PENDING_MS;
    if (state.key && Date.now() >= state.pausedUntil) {
      const pending = state.needs
        .map((n) => n.id)
        .filter((id) => (state.matches.get(id) || {}).status === 'pending' || isFreshlyPosted(id));
      if (pending.length) {
        await Promise.all(pending.map(loadMatches));
        renderAll();
        if (pending.some(isFreshlyPosted)) next = FRESH_PENDING_MS;
      }
    }
    setTimeout(pendingTick, next);
  }

  function isFreshlyPosted(id) {
    const at = state.posted.get(id);
    return at !== undefined && !state.readyIn.has(id) && performance.now() - at < FRESH_WINDOW_MS;
  }

  // ---------------------------------------------------------------- derived data
  function visibleNeeds() {
    return state.lanFilter ? state.needs.filter((n) => n.lan === state.lanFilter) : state.needs;
  }

  const selectedNeed = () => state.needs.find((n) => n.id === state.selectedId) || null;

  function activeSuppliers() {
    return [...state.suppliers.values()].filter((sup) => sup.active !== false);
  }

  function buyers() {
    const found = new Map();
    for (const need of state.needs) {
      if (!found.has(need.buyer_id)) found.set(need.buyer_id, { id: need.buyer_id, name: need.buyer_name, kommuner: [] });
      found.get(need.buyer_id).kommuner.push(need.kommun);
    }
    return [...found.values()].sort((a, b) => a.name.localeCompare(b.name, 'sv'));
  }

  // ---------------------------------------------------------------- rendering
  let renderQueued = false;
  function renderAll() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      for (const part of [renderCounters, renderLanFilter, renderNeeds, renderMap, renderMatches]) {
        try {
          part();
        } catch (error) {
          console.error(error); // eslint-disable-line no-console
        }
      }
      state.flash.clear();
    });
  }

  function renderCounters() {
    const active = activeSuppliers();
    $('count-suppliers').textContent = state.suppliersLoaded ? fmtInt(active.length) : '–';
    const lans = new Set(active.map((sup) => (sup.home_kommun || '').slice(0, 2)).filter(Boolean));
    $('count-lan').textContent = state.suppliersLoaded ? fmtInt(lans.size) : '–';
    $('count-needs').textContent = state.needsLoaded ? fmtInt(state.needs.length) : '–';
    if (state.key) {
      let total = 0;
      for (const need of state.needs) {
        const entry = state.matches.get(need.id);
        if (entry && entry.status === 'ready') total += entry.matches.length;
      }
      $('count-matches').textContent = fmtInt(total);
    } else {
      $('count-matches').textContent = '–';
    }
    const jobs = (state.health && state.health.jobs) || null;
    $('count-jobs').textContent = jobs ? fmtInt((jobs.queued || 0) + (jobs.running || 0)) : '–';

    const live = $('live');
    const ok = state.health && state.health.status === 'ok' && failures.size === 0;
    live.classList.toggle('is-down', !ok);
    $('live-text').textContent = state.lastUpdate
      ? `${ok ? 'Live' : 'Stört'} · ${timeFormat.format(state.lastUpdate)}`
      : 'Ansluter…';
    const button = $('new-need');
    button.disabled = !state.key || buyers().length === 0;
    button.title = state.key ? '' : 'Kräver en administratörsnyckel';
  }

  let lanFilterSignature = '';
  function renderLanFilter() {
    const select = $('lan-filter');
    const counts = new Map();
    for (const need of state.needs) counts.set(need.lan, (counts.get(need.lan) || 0) + 1);
    if (state.lanFilter && !counts.has(state.lanFilter)) counts.set(state.lanFilter, 0);
    const codes = [...counts.keys()].sort();
    const signature = JSON.stringify([state.lanFilter, codes.map((c) => [c, counts.get(c), lanName(c)])]);
    if (signature === lanFilterSignature) return;
    lanFilterSignature = signature;
    replace(select,
      h('option', { value: '', text: `Alla län (${state.needs.length})` }),
      codes.map((code) => h('option', { value: code, text: `${lanName(code)} (${counts.get(code)})` })));
    select.value = state.lanFilter;
  }

  function badge(text, kind, title) {
    return h('span', { class: `badge ${kind || ''}`, text, title });
  }

  function needBadges(need, { withMatches = true } = {}) {
    const badges = [];
    if (need.estimated_value_sek !== null && need.estimated_value_sek !== undefined) {
      badges.push(badge(fmtSek(need.estimated_value_sek), 'value'));
    }
    if (need.reserved) badges.push(badge('Reserverad', 'reserved', 'Reserverat kontrakt, LOU 4 kap. 18 §'));
    if (need.training_places > 0) {
      badges.push(badge(`Arbetsträning: ${plural(need.training_places, 'plats', 'platser')}`, 'training'));
    }
    if (need.closes_at) badges.push(badge(`Sista dag ${fmtDate(need.closes_at)}`, 'date'));
    if (withMatches && state.key) {
      const entry = state.matches.get(need.id);
      if (entry && entry.status === 'pending') {
        badges.push(h('span', { class: 'badge pending' }, h('span', { class: 'spinner small', 'aria-hidden': 'true' }), 'Rangordnas…'));
      } else if (entry && entry.status === 'ready') {
        badges.push(badge(plural(entry.matches.length, 'matchning', 'matchningar'), entry.matches.length ? 'count' : 'none'));
      }
    }
    return badges;
  }

  let needsSignature = '';
  let scrolledTo = null;
  function renderNeeds() {
    const list = $('needs');
    const needs = visibleNeeds();
    const signature = JSON.stringify([
      state.needsLoaded, state.selectedId, state.key !== null, state.kommun.size, needs,
      needs.map((n) => { const e = state.matches.get(n.id); return e ? [e.status, e.matches.length] : null; }),
      [...state.flash],
    ]);
    if (signature === needsSignature) return;
    needsSignature = signature;
    if (!state.needsLoaded) {
      replace(list, h('li', { class: 'placeholder', text: 'Laddar behov…' }));
      return;
    }
    if (needs.length === 0) {
      replace(list, h('li', { class: 'placeholder', text: state.lanFilter ? `Inga öppna behov i ${lanName(state.lanFilter)}.` : 'Inga öppna behov just nu.' }));
      return;
    }
    const scroll = list.scrollTop;
    const before = list.querySelector('.need.is-selected');
    const keepInView = scrolledTo !== state.selectedId || (before && isInside(before, list));
    replace(list, needs.map((need) => {
      const selected = need.id === state.selectedId;
      return h('li', { class: 'need-item' },
        h('button', {
          type: 'button',
          class: `need${selected ? ' is-selected' : ''}${state.flash.has(need.id) ? ' is-new' : ''}`,
          'aria-pressed': selected ? 'true' : 'false',
          dataset: { id: String(need.id) },
          onclick: () => select(need.id),
        },
        h('span', { class: 'need-title', text: need.title }),
        h('span', { class: 'need-meta' },
          h('span', { class: 'need-buyer', text: need.buyer_name }),
          h('span', { class: 'sep', 'aria-hidden': 'true', text: ' · ' }),
          h('span', { class: 'need-place', text: kommunName(need.kommun) })),
        h('span', { class: 'badges' }, needBadges(need))));
    }));
    list.scrollTop = scroll;
    scrolledTo = state.selectedId;
    const current = list.querySelector('.need.is-selected');
    if (current && keepInView && !isInside(current, list)) current.scrollIntoView({ block: 'nearest' });
  }

  function isInside(node, container) {
    const a = node.getBoundingClientRect();
    const b = container.getBoundingClientRect();
    return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  }

  // ---------------------------------------------------------------- the map
  // Equirectangular projection, longitudes scaled by cos 62° (Sweden's middle latitude); 72 SVG
  // units per degree of latitude, so the country is about 1000 units tall. The map follows the
  // selected need (zooming to it and its best matches) with a small whole-country inset; dots,
  // markers and labels keep their size on screen whatever the zoom.
  const COS62 = Math.cos((62 * Math.PI) / 180);
  const MAP_SCALE = 72;
  const project = (lon, lat) => [(lon - 10) * COS62 * MAP_SCALE, (70 - lat) * MAP_SCALE];
  const ZOOM_MIN_SPAN = 210;   // units: about 3 degrees of latitude around a need
  const ZOOM_PAD = 40;
  const ZOOM_MS = 750;

  const map = {
    svg: null,
    layers: null,
    inset: null,
    insetFrame: null,
    insetDots: null,
    full: null,        // [x, y, w, h]: the whole country
    view: null,        // the viewBox now
    target: null,      // the viewBox being flown to
    frame: 0,
    follow: true,      // zoom to the selected need; false shows the whole country
    markers: [],       // {node, x, y, dx, dy, ox, oy}: world anchor, spread and label offsets in px
    lines: [],         // {node, from, to}: markers joined by a match line
  };

  function buildMapBase() {
    if (!state.geo || map.svg) return;
    let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
    const shapes = [];
    for (const feature of state.geo.features || []) {
      const geometry = feature.geometry || {};
      const polygons = geometry.type === 'Polygon' ? [geometry.coordinates]
        : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
      let d = '';
      for (const polygon of polygons) {
        for (const ring of polygon) {
          ring.forEach(([lon, lat], i) => {
            const [x, y] = project(lon, lat);
            minX = Math.min(minX, x); maxX = Math.max(maxX, x);
            minY = Math.min(minY, y); maxY = Math.max(maxY, y);
            d += `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
          });
          d += 'Z';
        }
      }
      const props = feature.properties || {};
      shapes.push({ d, code: String(props.l_id || '').padStart(2, '0'), name: props.name || '' });
    }
    if (!shapes.length) return;
    const pad = 12;
    map.full = [minX - pad, minY - pad, maxX - minX + 2 * pad, maxY - minY + 2 * pad];
    map.view = [...map.full];
    const fullBox = map.full.map((v) => v.toFixed(1)).join(' ');
    map.layers = {
      lan: s('g', { class: 'lan-layer' }, shapes.map((shape) => s('path', {
        d: shape.d, class: 'lan', dataset: { lan: shape.code },
        onclick: () => setLanFilter(state.lanFilter === shape.code ? '' : shape.code),
      }, s('title', { text: shape.name ? `${shape.name} län` : shape.code })))),
      lines: s('g', { class: 'line-layer' }),
      suppliers: s('g', { class: 'supplier-layer' }),
      needs: s('g', { class: 'need-layer' }),
      labels: s('g', { class: 'label-layer' }),
    };
    map.svg = s('svg', {
      class: 'map', viewBox: fullBox, preserveAspectRatio: 'xMidYMid meet', role: 'img',
      'aria-label': 'Karta över Sveriges län med ASF:er och öppna behov',
    }, Object.values(map.layers));
    map.insetDots = s('g', { class: 'inset-dots' });
    map.insetFrame = s('rect', { class: 'inset-frame' });
    map.inset = s('svg', {
      class: 'map-inset', viewBox: fullBox, preserveAspectRatio: 'xMidYMid meet', 'aria-hidden': 'true',
    }, shapes.map((shape) => s('path', { d: shape.d, class: 'inset-lan' })), map.insetDots, map.insetFrame);
    replace($('map'), map.svg, map.inset);
    if (typeof ResizeObserver === 'function') {
      new ResizeObserver(() => { map.target = null; flyTo(targetView(), false); }).observe($('map'));
    }
  }

  function pixelsPerUnit(view) {
    const box = map.svg.getBoundingClientRect();
    if (!box.width || !box.height) return 1;
    return Math.min(box.width / view[2], box.height / view[3]);
  }

  // Redraw every marker for the current view: constant pixel size, spread a little wider when
  // zoomed in so that ASFs in one kommun come apart.
  function applyView() {
    if (!map.svg) return;
    const view = map.view;
    map.svg.setAttribute('viewBox', view.map((v) => v.toFixed(2)).join(' '));
    const ppu = pixelsPerUnit(view);
    const zoom = ppu / pixelsPerUnit(map.full);
    const k = 1 / ppu;
    const spreadBy = Math.min(2.2, Math.max(1, zoom ** 0.5));
    const sizeBy = Math.min(1.45, Math.max(1, zoom ** 0.2));
    for (const m of map.markers) {
      const x = m.x + k * (m.dx * spreadBy + m.ox * sizeBy);
      const y = m.y + k * (m.dy * spreadBy + m.oy * sizeBy);
      m.at = [x, y];
      m.node.setAttribute('transform', `translate(${x.toFixed(2)} ${y.toFixed(2)}) scale(${(k * sizeBy).toFixed(4)})`);
    }
    for (const line of map.lines) {
      line.node.setAttribute('x1', line.from.at[0].toFixed(2));
      line.node.setAttribute('y1', line.from.at[1].toFixed(2));
      line.node.setAttribute('x2', line.to.at[0].toFixed(2));
      line.node.setAttribute('y2', line.to.at[1].toFixed(2));
    }
    // The inset outlines what the main map shows (all of it, given "meet" letterboxing).
    const box = map.svg.getBoundingClientRect();
    const seenW = box.width ? box.width / ppu : view[2];
    const seenH = box.height ? box.height / ppu : view[3];
    const cx = view[0] + view[2] / 2;
    const cy = view[1] + view[3] / 2;
    setProps(map.insetFrame, { x: (cx - seenW / 2).toFixed(1), y: (cy - seenH / 2).toFixed(1), width: seenW.toFixed(1), height: seenH.toFixed(1) });
    map.inset.classList.toggle('is-visible', zoom > 1.6);
    map.svg.classList.toggle('is-overview', zoom < 1.6);
  }

  function sameView(a, b) {
    return Boolean(a && b) && a.every((v, i) => Math.abs(v - b[i]) < 0.5);
  }

  function flyTo(target, animate = true) {
    if (!map.svg || !target) return;
    if (sameView(target, map.target)) return;
    map.target = target;
    cancelAnimationFrame(map.frame);
    const reduced = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    if (!animate || reduced) {
      map.view = [...target];
      applyView();
      return;
    }
    // Centre moves linearly, size changes geometrically: reads as one smooth zoom.
    const from = [...map.view];
    const fromC = [from[0] + from[2] / 2, from[1] + from[3] / 2];
    const toC = [target[0] + target[2] / 2, target[1] + target[3] / 2];
    const started = performance.now();
    const step = (now) => {
      const t = Math.min(1, (now - started) / ZOOM_MS);
      const e = t < 0.5 ? 4 * t * t * t : 1 - ((-2 * t + 2) ** 3) / 2;
      const w = from[2] * (target[2] / from[2]) ** e;
      const h = from[3] * (target[3] / from[3]) ** e;
      const cx = fromC[0] + (toC[0] - fromC[0]) * e;
      const cy = fromC[1] + (toC[1] - fromC[1]) * e;
      map.view = [cx - w / 2, cy - h / 2, w, h];
      applyView();
      if (t < 1) map.frame = requestAnimationFrame(step);
    };
    map.frame = requestAnimationFrame(step);
  }

  function targetView() {
    const need = selectedNeed();
    if (!map.full) return null;
    if (!map.follow || !need || !state.kommun.has(need.kommun)) return map.full;
    const k = state.kommun.get(need.kommun);
    const points = [project(k.lon, k.lat)];
    const entry = state.matches.get(need.id);
    if (entry && entry.status === 'ready') {
      for (const m of entry.matches) {
        // The best match and every strong one; weak ones far away only get a line out of view.
        if (m.rank > 1 && m.score < STRONG_SCORE) continue;
        const sup = state.suppliers.get(m.supplier_id);
        const home = sup && state.kommun.get(sup.home_kommun);
        if (home) points.push(project(home.lon, home.lat));
      }
    }
    let x0 = Math.min(...points.map((p) => p[0])) - ZOOM_PAD;
    let x1 = Math.max(...points.map((p) => p[0])) + ZOOM_PAD;
    let y0 = Math.min(...points.map((p) => p[1])) - ZOOM_PAD;
    let y1 = Math.max(...points.map((p) => p[1])) + ZOOM_PAD;
    const box = map.svg.getBoundingClientRect();
    const aspect = box.width && box.height ? box.width / box.height : 0.5;
    let w = Math.max(x1 - x0, ZOOM_MIN_SPAN * Math.min(1, aspect));
    let h = Math.max(y1 - y0, ZOOM_MIN_SPAN * Math.min(1, 1 / aspect));
    if (w / h < aspect) w = h * aspect; else h = w / aspect;
    if (w >= map.full[2] || h >= map.full[3]) return map.full;
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    return [cx - w / 2, cy - h / 2, w, h];
  }

  // Points sharing a kommun sit on a sunflower spiral (in screen pixels) around its centroid,
  // in id order, so co-located ASFs stay visible and keep their places between renders.
  function spread(items, codeOf, spacing, first, turn) {
    const byKommun = new Map();
    for (const item of [...items].sort((a, b) => a.id - b.id)) {
      const code = codeOf(item);
      if (!state.kommun.has(code)) continue;
      if (!byKommun.has(code)) byKommun.set(code, []);
      byKommun.get(code).push(item);
    }
    const places = new Map();
    for (const [code, group] of byKommun) {
      const k = state.kommun.get(code);
      const [x, y] = project(k.lon, k.lat);
      group.forEach((item, i) => {
        const n = i + first;
        const r = n === 0 ? 0 : spacing * Math.sqrt(n);
        const a = n * 2.399963 + turn; // golden angle
        places.set(item.id, { x, y, dx: r * Math.cos(a), dy: r * Math.sin(a), ox: 0, oy: 0 });
      });
    }
    return places;
  }

  function marker(place, node, ox = 0, oy = 0) {
    const m = { ...place, ox, oy, node, at: [place.x, place.y] };
    map.markers.push(m);
    return m;
  }

  let mapSignature = '';
  function renderMap() {
    buildMapBase();
    if (!map.svg) return;
    const need = selectedNeed();
    const entry = need ? state.matches.get(need.id) : null;
    const matched = entry && entry.status === 'ready' ? entry.matches : [];
    const signature = JSON.stringify([
      state.kommun.size, state.lanFilter, state.selectedId, map.follow,
      activeSuppliers().map((sup) => [sup.id, sup.home_kommun, sup.name]),
      state.needs.map((n) => [n.id, n.kommun, n.title, n.lan]),
      matched.map((m) => [m.supplier_id, m.score]),
    ]);
    if (signature === mapSignature) return;
    mapSignature = signature;
    const { layers } = map;

    for (const path of layers.lan.children) {
      path.classList.toggle('is-filtered', path.dataset.lan === state.lanFilter);
      path.classList.toggle('is-selected', Boolean(need) && path.dataset.lan === need.lan);
    }

    map.markers = [];
    map.lines = [];
    const suppliers = activeSuppliers();
    const supplierPlaces = spread(suppliers, (sup) => sup.home_kommun, 8.5, 0, 0);
    const needPlaces = spread(state.needs, (n) => n.kommun, 12, 1, Math.PI);
    const matchOf = new Map(matched.map((m) => [m.supplier_id, m]));

    const dim = [];
    const lit = [];
    const supplierMarkers = new Map();
    for (const sup of suppliers) {
      const place = supplierPlaces.get(sup.id);
      if (!place) continue;
      const match = matchOf.get(sup.id);
      const top = match && match.rank <= FULL_MATCHES;
      const node = s('g', { class: `asf${match ? ' is-matched' : ''}${top ? ' is-top' : ''}${need && !match ? ' is-dim' : ''}` },
        s('circle', { r: top ? 10.5 : match ? 7 : 5.5 }),
        top ? s('text', { 'text-anchor': 'middle', dy: '0.35em', text: String(match.rank) }) : null,
        s('title', { text: `${match ? `${match.rank}. ` : ''}${sup.name} (${kommunName(sup.home_kommun)})` }));
      supplierMarkers.set(sup.id, marker(place, node));
      (match ? lit : dim).push([match ? match.rank : 0, node]);
    }
    lit.sort((a, b) => b[0] - a[0]);
    replace(layers.suppliers, dim.map(([, node]) => node), lit.map(([, node]) => node));
    replace(map.insetDots, suppliers.map((sup) => {
      const place = supplierPlaces.get(sup.id);
      return place ? s('circle', { cx: place.x.toFixed(1), cy: place.y.toFixed(1), r: 7 }) : null;
    }));

    const markers = [];
    let selectedNode = null;
    let selectedMarker = null;
    for (const n of state.needs) {
      const place = needPlaces.get(n.id);
      if (!place) continue;
      const isSelected = Boolean(need) && n.id === need.id;
      const size = isSelected ? 16 : 11;
      const node = s('g', {
        class: `need-marker${isSelected ? ' is-selected' : ''}${state.lanFilter && n.lan !== state.lanFilter ? ' is-dim' : ''}`,
        onclick: () => select(n.id),
      },
      isSelected ? s('circle', { class: 'pulse', r: 15 }) : null,
      s('rect', { x: -size / 2, y: -size / 2, width: size, height: size, transform: 'rotate(45)' }),
      s('title', { text: `${n.title} (${kommunName(n.kommun)})` }));
      const m = marker(place, node);
      if (isSelected) { selectedNode = node; selectedMarker = m; } else markers.push(node);
    }
    replace(layers.needs, markers, selectedNode);

    const lines = [];
    const best = matched.reduce((max, m) => Math.max(max, m.score), 0) || 1;
    if (selectedMarker) {
      for (const m of [...matched].reverse()) {
        const to = supplierMarkers.get(m.supplier_id);
        if (!to) continue;
        const strength = Math.max(0, m.score) / best;
        const node = s('line', {
          class: `match-line${m.rank <= FULL_MATCHES ? ' top' : ''}`,
          style: { strokeWidth: `${(1.2 + 4.5 * strength).toFixed(2)}px`, opacity: (0.3 + 0.7 * strength).toFixed(2) },
        });
        map.lines.push({ node, from: selectedMarker, to });
        lines.push(node);
      }
    }
    replace(layers.lines, lines);

    // The names of the kommuner involved: the need's and its top matches' home kommuner.
    const labels = [];
    const places = new Map();
    if (need && state.kommun.has(need.kommun)) places.set(need.kommun, 'need');
    for (const m of matched.slice(0, FULL_MATCHES)) {
      const sup = state.suppliers.get(m.supplier_id);
      if (sup && state.kommun.has(sup.home_kommun) && !places.has(sup.home_kommun)) places.set(sup.home_kommun, 'asf');
    }
    // Below (the need's) or above (an ASF's) the kommun's whole cluster of markers.
    const reach = new Map();
    for (const place of [...supplierPlaces.values(), ...needPlaces.values()]) {
      const key = `${place.x},${place.y}`;
      reach.set(key, Math.max(reach.get(key) || 0, Math.hypot(place.dx, place.dy)));
    }
    for (const [code, kind] of places) {
      const k = state.kommun.get(code);
      const [x, y] = project(k.lon, k.lat);
      const radius = reach.get(`${x},${y}`) || 0;
      const node = s('text', { class: `place-label ${kind}`, 'text-anchor': 'middle', text: k.name });
      const below = kind === 'need';
      marker({ x, y, dx: 0, dy: below ? radius : -radius }, node, 0, below ? 30 : -17);
      labels.push(node);
    }
    replace(layers.labels, labels);

    applyView();
    flyTo(targetView());
    renderMapToggle();
  }

  function renderMapToggle() {
    const button = $('map-toggle');
    button.textContent = map.follow ? 'Visa hela Sverige' : 'Zooma till behovet';
    button.hidden = !selectedNeed();
  }

  function toggleMapFollow() {
    map.follow = !map.follow;
    mapSignature = '';
    renderAll();
  }

  // ---------------------------------------------------------------- the selected need's matches
  const RELATIONS = {
    exact: ['=', 'exakt'],
    broader: ['⊂', 'bredare'],
    narrower: ['⊃', 'smalare'],
    same_category: ['~', 'samma kategori'],
    same_class: ['~', 'samma klass'],
    same_group: ['~', 'samma grupp'],
    same_division: ['~', 'samma huvudgrupp'],
  };

  const sekFrom = (text) => fmtSek(Number(String(text).replace(/\D/g, '')));

  // The ranking explains its filters in English sentences from fixed templates; say the same
  // in Swedish, with names for codes. Trivial passes (not reserved, no training places, active,
  // open) are left out; anything unrecognised is shown as it came.
  function filterLine(check) {
    const reason = String(check.reason || '');
    const ok = Boolean(check.passed);
    let m;
    switch (check.name) {
      case 'region':
        if ((m = reason.match(/serves kommun (\d{4})$/))) return ['Område', `verkar i ${kommunName(m[1])}`];
        if ((m = reason.match(/serves län (\d{2}) which contains kommun (\d{4})/))) return ['Område', `hela ${lanName(m[1])}`];
        if (/whole country/.test(reason)) return ['Område', 'hela Sverige'];
        if ((m = reason.match(/neither kommun (\d{4})/))) return ['Område', `verkar inte i ${kommunName(m[1])}`];
        break;
      case 'capacity':
        if ((m = reason.match(/need value ([\d\s]+) SEK (?:is within|exceeds) supplier's max contract value ([\d\s]+) SEK/))) {
          return ['Kapacitet', `${sekFrom(m[1])} ${ok ? '≤' : '>'} största uppdrag ${sekFrom(m[2])}`];
        }
        if (/^need value unknown/.test(reason)) return ['Kapacitet', 'värde ej angivet'];
        if (/max contract value unknown/.test(reason)) return ['Kapacitet', 'inget tak angivet'];
        break;
      case 'training_places':
        if (/no training places/.test(reason)) return null;
        if ((m = reason.match(/need buys (\d+) training places; supplier offers(?: only)? (\d+)/))) {
          return ['Arbetsträning', `${fmtInt(Number(m[2]))} platser ${ok ? '≥' : '<'} ${fmtInt(Number(m[1]))}`];
        }
        break;
      case 'reserved':
        if (/not a reserved contract/.test(reason)) return null;
        if ((m = reason.match(/share ([\d.]+)%/))) {
          return ['Reserverad', `andel i målgruppen ${fmtPercent(Number(m[1]))} ${ok ? '≥' : '<'} 30${THIN}%`];
        }
        break;
      case 'supplier_active':
        return ok ? null : ['Aktiv', 'ASF:en är inaktiv'];
      case 'need_open':
        return ok ? null : ['Status', 'behovet är inte öppet'];
      default:
        break;
    }
    return [check.name, reason];
  }

  function explanationLines(match) {
    const ex = match.explanation || {};
    const lines = [];
    const terms = (ex.terms || []).map((t) => t.term).filter(Boolean);
    if (terms.length) {
      lines.push(h('p', { class: 'why why-terms' }, h('span', { class: 'why-label', text: 'Träffande ord: ' }), terms.join(', ')));
    }
    const links = [...(ex.cpv || [])].sort((a, b) => (b.weight || 0) - (a.weight || 0)).slice(0, 2);
    if (links.length) {
      lines.push(h('p', { class: 'why why-cpv' }, h('span', { class: 'why-label', text: 'CPV: ' }),
        links.map((link, i) => {
          const [symbol, word] = RELATIONS[link.relation] || ['~', link.relation];
          return h('span', { class: `cpv-link${(link.weight || 0) < 0.3 ? ' weak' : ''}` },
            i ? ' · ' : '',
            link.relation === 'exact' ? `${link.need_code} (${word})` : `${link.need_code} ${symbol} ${link.supplier_code} (${word})`);
        })));
    }
    const checks = (ex.filters || []).map((check) => [check, filterLine(check)]).filter(([, line]) => line);
    if (checks.length) {
      lines.push(h('ul', { class: 'ticks' }, checks.map(([check, [label, text]]) => h('li', { class: check.passed ? 'pass' : 'fail' },
        h('span', { class: 'tick', 'aria-label': check.passed ? 'uppfyllt' : 'ej uppfyllt', text: check.passed ? '✓' : '✗' }),
        h('span', { class: 'tick-label', text: `${label}: ` }), text))));
    }
    return lines;
  }

  function supplierMeta(match) {
    const sup = state.suppliers.get(match.supplier_id);
    if (!sup) return '';
    const parts = [];
    if (sup.home_kommun) parts.push(kommunName(sup.home_kommun));
    if (sup.legal_form) parts.push(LEGAL_FORMS[sup.legal_form] || sup.legal_form);
    if (sup.employees) parts.push(plural(sup.employees, 'anställd', 'anställda'));
    return parts.join(' · ');
  }

  function scoreBar(score) {
    const clamped = Math.max(0, Math.min(1, Number(score) || 0));
    return h('span', { class: 'score' },
      h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: { width: `${(clamped * 100).toFixed(1)}%` } })),
      h('span', { class: 'score-value', text: fmtScore(score) }));
  }

  function matchCard(match) {
    const ex = match.explanation || {};
    return h('li', { class: 'match' },
      h('span', { class: 'rank', text: String(match.rank) }),
      h('div', { class: 'match-body' },
        h('div', { class: 'match-head' },
          h('div', { class: 'match-name' },
            h('strong', { text: match.supplier_name }),
            h('span', { class: 'match-meta', text: supplierMeta(match) })),
          h('div', { class: 'match-score' },
            scoreBar(match.score),
            h('span', { class: 'score-parts', text: `text ${fmtScore(ex.text_score)} · CPV ${fmtScore(ex.cpv_score)}` }))),
        explanationLines(match)));
  }

  function weakRow(match) {
    return h('li', { class: 'weak' },
      h('details', {},
        h('summary', {},
          h('span', { class: 'rank small', text: String(match.rank) }),
          h('span', { class: 'weak-name', text: match.supplier_name }),
          h('span', { class: 'score-value', text: fmtScore(match.score) })),
        h('div', { class: 'weak-body' }, explanationLines(match))));
  }

  let matchesSignature = '';
  let shownNeedId = null;
  function renderMatches() {
    const root = $('matches');
    const need = selectedNeed();
    const entry = need ? state.matches.get(need.id) : null;
    const signature = JSON.stringify([
      need, entry && [entry.status, entry.error, entry.matches], state.key !== null, state.keyProblem,
      need && state.readyIn.get(need.id), state.suppliers.size, state.kommun.size, state.needsLoaded,
    ]);
    if (signature === matchesSignature) return;
    matchesSignature = signature;

    if (!need) {
      replace(root, h('p', { class: 'placeholder', text: state.needsLoaded ? 'Välj ett behov för att se rangordnade ASF:er.' : 'Laddar…' }));
      return;
    }

    const head = h('header', { class: 'need-detail' },
      h('p', { class: 'eyebrow', text: `Behov #${need.id} · ${need.buyer_name}` }),
      h('h2', { class: 'detail-title', text: need.title }),
      h('p', { class: 'detail-meta' },
        `${kommunName(need.kommun)}, ${lanName(need.lan)}`,
        need.cpv_codes && need.cpv_codes.length ? h('span', { class: 'cpv-codes', text: ` · CPV ${need.cpv_codes.join(', ')}` }) : null),
      h('div', { class: 'badges' }, needBadges(need, { withMatches: false })),
      need.description ? h('p', { class: `detail-text${state.key ? '' : ' full'}`, text: need.description }) : null);

    let body;
    if (!state.key) {
      body = h('div', { class: 'notice' },
        h('p', { class: 'notice-title', text: 'Matchningar kräver en administratörsnyckel.' }),
        h('p', { text: state.keyProblem || 'Öppna sidan via länken som asfmatch demo skriver ut (…/#key=asfm_…).' }));
    } else if (!entry) {
      body = h('p', { class: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Hämtar matchningar…');
    } else if (entry.status === 'error') {
      body = h('div', { class: 'notice' }, h('p', { text: `Matchningarna kunde inte visas: ${entry.error}.` }));
    } else if (entry.status === 'pending') {
      body = h('p', { class: 'status pending' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Rangordnas…');
    } else {
      const seconds = state.readyIn.get(need.id);
      const status = h('p', { class: 'status ready' },
        seconds !== undefined ? h('span', { class: 'timing', text: `Klart på ${fmtDecimal(seconds, 1)} s` }) : null,
        entry.matches.length
          ? `${plural(entry.matches.length, 'ASF uppfyller', 'ASF:er uppfyller')} kraven, rangordnade efter relevans`
          : 'Ingen ASF uppfyller kraven för område, kapacitet och reservation.');
      const strong = entry.matches.filter((m, i) => i < FULL_MATCHES || m.score >= STRONG_SCORE);
      const weak = entry.matches.slice(strong.length);
      body = h('div', {},
        status,
        h('ol', { class: 'match-list' }, strong.map(matchCard)),
        weak.length ? h('div', { class: 'weak-block' },
          h('p', { class: 'weak-title', text: `Svagare träffar (${weak.length})` }),
          h('ol', { class: 'weak-list' }, weak.map(weakRow))) : null);
    }
    const scroll = shownNeedId === need.id ? root.scrollTop : 0;
    shownNeedId = need.id;
    replace(root, head, body);
    root.scrollTop = scroll;
  }

  // ---------------------------------------------------------------- interaction
  function select(id) {
    if (state.selectedId === id) return;
    state.selectedId = id;
    writeLocation();
    renderAll();
    if (state.key) loadMatches(id).then(renderAll);
  }

  function setLanFilter(code) {
    state.lanFilter = code;
    const visible = visibleNeeds();
    if (visible.length && !visible.some((n) => n.id === state.selectedId)) {
      select(visible[0].id);
    }
    writeLocation();
    renderAll();
  }

  function moveSelection(step) {
    const needs = visibleNeeds();
    if (!needs.length) return;
    const at = needs.findIndex((n) => n.id === state.selectedId);
    const next = needs[Math.max(0, Math.min(needs.length - 1, at + step))];
    if (next) select(next.id);
  }

  // Presenter remotes send arrow keys or Page Up/Down: step through the needs.
  function onKey(event) {
    if ($('need-dialog').open) return;
    const target = event.target;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT')) return;
    if (event.key === 'ArrowDown' || event.key === 'PageDown') { moveSelection(1); event.preventDefault(); }
    if (event.key === 'ArrowUp' || event.key === 'PageUp') { moveSelection(-1); event.preventDefault(); }
  }

  // ---------------------------------------------------------------- the "Nytt behov" form
  const form = { cpv: [], searchTimer: null, searchSeq: 0, example: 0 };

  const EXAMPLES = [
    {
      buyer: 'Borlänge', kommun: '2081', value: 850000, reserved: true, training: 0,
      title: 'Lokalvård av två äldreboenden i Borlänge, reserverat delkontrakt',
      description: 'Städning av lägenheter och gemensamma utrymmen på två äldreboenden, ca 2 400 kvm, samt fönsterputs två gånger per år. Reserverat enligt 4 kap. 18 § LOU.',
      cpv: [['90911200', 'Städning av byggnader'], ['90910000', 'Städning']],
    },
    {
      buyer: 'Luleå', kommun: '2580', value: 300000, reserved: false, training: 2,
      title: 'Catering till föräldramöten och personaldagar i Luleås förskolor',
      description: 'Fika och enklare luncher för 20–80 personer, levererat till förskolor i Luleå. Leverantören tar emot två personer i arbetsträning under avtalstiden.',
      cpv: [['55520000', 'Catering']],
    },
    {
      buyer: 'Örebro', kommun: '1880', value: 400000, reserved: true, training: 0,
      title: 'Reparation och ompolstring av stolar för återbruk i Örebro kommuns skolor',
      description: 'Renovering av begagnade skolmöbler: slipning, lackning, ompolstring och mindre snickeriarbeten. Reserverad upphandling för arbetsintegrerande sociala företag.',
      cpv: [['50850000', 'Reparation och underhåll av möbler'], ['39130000', 'Kontorsmöbler']],
    },
  ];

  function openForm() {
    if (!state.key) {
      toast('Att publicera behov kräver en administratörsnyckel.');
      return;
    }
    const list = buyers();
    replace($('f-buyer'), list.map((b) => h('option', { value: String(b.id), text: b.name })));
    const kommunSelect = $('f-kommun');
    if (!kommunSelect.options.length) {
      replace(kommunSelect, state.regions.map((lan) => h('optgroup', { label: lan.name },
        [...(lan.kommuner || [])].sort((a, b) => a.name.localeCompare(b.name, 'sv'))
          .map((k) => h('option', { value: k.code, text: k.name })))));
    }
    buyerChanged();
    showFormErrors([]);
    $('need-dialog').showModal();
    $('f-title').focus();
  }

  // Default the kommun to where the chosen buyer's needs usually are.
  function buyerChanged() {
    const buyer = buyers().find((b) => String(b.id) === $('f-buyer').value);
    if (!buyer || !buyer.kommuner.length) return;
    const counts = new Map();
    for (const code of buyer.kommuner) counts.set(code, (counts.get(code) || 0) + 1);
    const [top] = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    if (top && state.kommun.has(top[0])) $('f-kommun').value = top[0];
  }

  function fillExample() {
    const example = EXAMPLES[form.example % EXAMPLES.length];
    form.example += 1;
    const buyer = buyers().find((b) => b.name.includes(example.buyer));
    if (buyer) $('f-buyer').value = String(buyer.id);
    $('f-title').value = example.title;
    $('f-description').value = example.description;
    if (state.kommun.has(example.kommun)) $('f-kommun').value = example.kommun;
    $('f-value').value = String(example.value);
    $('f-training').value = String(example.training);
    $('f-reserved').checked = example.reserved;
    form.cpv = example.cpv.map(([code, label]) => ({ code, label }));
    renderChips();
  }

  function renderChips() {
    replace($('f-cpv-chips'), form.cpv.map((item) => h('li', { class: 'chip' },
      h('span', { class: 'chip-code', text: item.code }),
      item.label ? h('span', { class: 'chip-label', text: item.label }) : null,
      h('button', {
        type: 'button', class: 'chip-remove', 'aria-label': `Ta bort ${item.code}`, text: '×',
        onclick: () => { form.cpv = form.cpv.filter((c) => c.code !== item.code); renderChips(); },
      }))));
  }

  function cpvSearchChanged() {
    clearTimeout(form.searchTimer);
    const query = $('f-cpv-search').value.trim();
    if (query.length < 2) {
      $('f-cpv-results').hidden = true;
      return;
    }
    form.searchTimer = setTimeout(() => searchCpv(query), 250);
  }

  async function searchCpv(query) {
    const seq = ++form.searchSeq;
    const results = $('f-cpv-results');
    try {
      const found = await api(`${API}/cpv?q=${encodeURIComponent(query)}&limit=8`);
      if (seq !== form.searchSeq) return;
      const items = Array.isArray(found) ? found : [];
      replace(results, items.length ? items.map((item) => h('li', {},
        h('button', {
          type: 'button', class: 'cpv-option', onclick: () => addCpv(item),
        }, h('span', { class: 'chip-code', text: item.code }), h('span', { text: item.label_sv || item.label_en || '' }))))
        : h('li', { class: 'cpv-empty', text: 'Inga koder hittades' }));
      results.hidden = false;
    } catch (error) {
      if (seq !== form.searchSeq) return;
      replace(results, h('li', { class: 'cpv-empty', text: `Sökningen misslyckades: ${error.message}` }));
      results.hidden = false;
    }
  }

  function addCpv(item) {
    if (!form.cpv.some((c) => c.code === item.code) && form.cpv.length < 30) {
      form.cpv.push({ code: item.code, label: item.label_sv || item.label_en || '' });
    }
    renderChips();
    $('f-cpv-search').value = '';
    $('f-cpv-results').hidden = true;
    $('f-cpv-search').focus();
  }

  const FIELD_NAMES = {
    title: 'Rubrik', description: 'Beskrivning', kommun: 'Kommun', cpv_codes: 'CPV-koder',
    estimated_value_sek: 'Värde', training_places: 'Arbetsträningsplatser', buyer_id: 'Beställare',
    reserved: 'Reserverat', body: 'Formuläret',
  };

  function showFormErrors(messages) {
    const list = $('form-errors');
    replace(list, messages.map((text) => h('li', { text })));
    list.hidden = messages.length === 0;
  }

  async function submitForm(event) {
    event.preventDefault();
    const title = $('f-title').value.trim();
    const valueText = $('f-value').value.trim();
    const trainingText = $('f-training').value.trim();
    const errors = [];
    if (!title) errors.push('Rubrik: skriv vad som ska köpas.');
    if (!$('f-buyer').value) errors.push('Beställare: välj en beställare.');
    if (!$('f-kommun').value) errors.push('Kommun: välj en kommun.');
    const value = valueText === '' ? null : Number(valueText);
    if (value !== null && (!Number.isInteger(value) || value < 0)) errors.push('Värde: ange ett helt antal kronor.');
    const training = trainingText === '' ? 0 : Number(trainingText);
    if (!Number.isInteger(training) || training < 0) errors.push('Arbetsträningsplatser: ange ett heltal.');
    showFormErrors(errors);
    if (errors.length) return;

    const body = {
      buyer_id: Number($('f-buyer').value),
      title,
      description: $('f-description').value.trim(),
      kommun: $('f-kommun').value,
      cpv_codes: form.cpv.map((c) => c.code),
      estimated_value_sek: value,
      reserved: $('f-reserved').checked,
      training_places: training,
      status: 'open',
    };
    const button = $('submit-need');
    button.disabled = true;
    button.textContent = 'Publicerar…';
    const started = performance.now();
    try {
      const need = await api(`${API}/needs`, { method: 'POST', body, auth: true });
      state.posted.set(need.id, started);
      state.matches.set(need.id, { status: 'pending', matches: [], error: null, fetchedAt: Date.now() });
      state.needs = [need, ...state.needs.filter((n) => n.id !== need.id)];
      state.flash.add(need.id);
      if (state.lanFilter && state.lanFilter !== need.lan) state.lanFilter = '';
      state.selectedId = need.id;
      writeLocation();
      $('need-dialog').close();
      $('need-form').reset();
      form.cpv = [];
      renderChips();
      renderAll();
      // The queue counter shows the ranking job at once rather than at the next refresh.
      Promise.all([loadMatches(need.id), loadHealth()]).then(renderAll);
    } catch (error) {
      if (error.status === 401) dropKey('Nyckeln gäller inte. Öppna sidan via länken från asfmatch demo.');
      const problem = error.problem || {};
      const fieldErrors = Array.isArray(problem.errors) ? problem.errors : [];
      showFormErrors(fieldErrors.length
        ? fieldErrors.map((e) => `${FIELD_NAMES[String(e.field).replace(/\[\d+\]$/, '')] || e.field}: ${e.reason}`)
        : [`Kunde inte publicera: ${error.message}.`]);
    } finally {
      button.disabled = false;
      button.textContent = 'Publicera behov';
    }
  }

  function wireForm() {
    $('new-need').addEventListener('click', openForm);
    $('cancel-need').addEventListener('click', () => $('need-dialog').close());
    $('fill-example').addEventListener('click', fillExample);
    $('f-buyer').addEventListener('change', buyerChanged);
    $('need-form').addEventListener('submit', submitForm);
    const search = $('f-cpv-search');
    search.addEventListener('input', cpvSearchChanged);
    search.addEventListener('keydown', (event) => {
      if (event.key !== 'Enter') return;
      event.preventDefault();
      const first = $('f-cpv-results').querySelector('.cpv-option');
      if (first && !$('f-cpv-results').hidden) first.click();
    });
  }

  // ---------------------------------------------------------------- start
  async function start() {
    readLocation();
    wireForm();
    $('lan-filter').addEventListener('change', (event) => setLanFilter(event.target.value));
    $('map-toggle').addEventListener('click', toggleMapFollow);
    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', locationChanged);
    renderAll();

    // Reference data first (names and coordinates), retried until it arrives.
    const [regionsOk, geoOk] = await Promise.all([loadRegions(), loadGeo()]);
    if (!regionsOk || !geoOk) {
      const retry = setInterval(async () => {
        const ok = (state.regions.length || await loadRegions()) && (state.geo || await loadGeo());
        if (ok) clearInterval(retry);
        renderAll();
      }, REFRESH_MS);
    }
    await Promise.all([loadSuppliers(), refresh()]);
    renderAll();
    setInterval(refresh, REFRESH_MS);
    setInterval(() => loadSuppliers().then(renderAll), SUPPLIERS_MS);
    setTimeout(pendingTick, PENDING_MS);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
