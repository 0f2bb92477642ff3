/* The investigators' app (/i/): screens read from /i/api/, every change one action with an id
 * of its own, queued in localStorage until the server has acknowledged it (see bot/investigator_web/api.py).
 *
 * Offline, answers typed for the record on screen are queued in order: the first names the
 * version shown, each next one the action before it ("after"), so the server applies them in
 * order and refuses the rest of the chain if one of them did not fit. Nothing typed is lost by a
 * reload: the queue stays in the browser's storage until acknowledged.
 */
(function () {
  "use strict";

  var QUEUE_KEY = "canbao.investigator.queue";
  var WHO_KEY = "canbao.investigator.who";
  var API = "/i/api/";
  var screenEl = document.getElementById("screen");
  var offlineEl = document.getElementById("offline");
  var flashEl = document.getElementById("flash");
  var whoEl = document.getElementById("who");
  var current = null; // the screen drawn (never stored: it carries personal data)
  var sending = false;
  var online = navigator.onLine;
  var typing = { record: null, text: "" }; // the text box's content, kept across redraws
  // The investigator last signed in here (offline, the queue shown is theirs); ``confirmed``
  // once /i/api/me said so in this page: only then is anything sent.
  var who = localStorage.getItem(WHO_KEY) || "";
  var confirmed = false;

  // ------------------------------------------------------------------ the queue (localStorage)

  /* Every queued item names the investigator who made it: a browser shared by two of them
   * sends each one's actions only under their own sign-in. */
  function allItems() {
    try {
      var items = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function loadQueue() {
    return allItems().filter(function (item) { return item.who === who; });
  }

  function saveQueue(items) {
    var others = allItems().filter(function (item) { return item.who !== who; });
    localStorage.setItem(QUEUE_KEY, JSON.stringify(others.concat(items)));
    banner();
  }

  function newAid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function pendingFor(recordId) {
    return loadQueue().filter(function (item) { return item.body.record === recordId; });
  }

  /* Queue one action and send what can be sent. ``label``: how the action reads in the chat. */
  function enqueue(op, body, label) {
    var items = loadQueue();
    var item = { aid: newAid(), op: op, body: body, label: label || "", who: who };
    if (body.record !== undefined) {
      var before = items.filter(function (i) { return i.body.record === body.record; });
      if (before.length) {
        item.body.after = before[before.length - 1].aid;
      } else {
        item.body.version = current && current.record_id === body.record ? current.version : 0;
      }
    }
    items.push(item);
    saveQueue(items);
    if (current && current.kind === "record" && current.record_id === body.record) draw(current);
    flush();
  }

  function isOnline() {
    return online && navigator.onLine !== false;
  }

  /* fetch that gives up after ``ms``: a phone between floors may neither answer nor fail. */
  function fetchWithin(url, options, ms) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, ms);
    return fetch(url, Object.assign({ signal: controller.signal }, options)).finally(function () {
      clearTimeout(timer);
    });
  }

  function banner() {
    var n = loadQueue().length;
    if (!isOnline()) {
      offlineEl.hidden = false;
      offlineEl.textContent = "离线 / " + n + " 条待发送";
    } else if (n) {
      offlineEl.hidden = false;
      offlineEl.textContent = "正在发送 / " + n + " 条待发送";
    } else {
      offlineEl.hidden = true;
      offlineEl.textContent = "";
    }
  }

  function setOnline(value) {
    online = value;
    banner();
    if (online && !confirmed) start();
    else if (online) flush();
  }

  /* Drop ``aid`` and every queued action chained after it; returns their labels. */
  function dropChain(items, aid) {
    var dropped = [];
    var gone = {};
    gone[aid] = true;
    var kept = items.filter(function (item) {
      if (gone[item.aid] || (item.body.after && gone[item.body.after])) {
        gone[item.aid] = true;
        if (item.label) dropped.push(item.label);
        return false;
      }
      return true;
    });
    return { kept: kept, dropped: dropped };
  }

  async function flush() {
    if (sending || !confirmed) return;
    sending = true;
    try {
      for (;;) {
        var items = loadQueue();
        if (!items.length || !isOnline()) break;
        var item = items[0];
        var payload = Object.assign({ aid: item.aid, op: item.op }, item.body);
        var response;
        try {
          response = await fetchWithin(API + "act", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-Canbao-Chat": "1" },
            body: JSON.stringify(payload),
          }, 15000);
        } catch (e) {
          setOnline(false);
          break;
        }
        var data = null;
        try {
          data = await response.json();
        } catch (e) {
          data = null;
        }
        if (response.status === 401) {
          signedOut(data);
          break;
        }
        if (response.status >= 500 || data === null) {
          // Kept: sent again later (the server applies each id once).
          flash((data && data.error) || "服务器暂时没有响应，稍后自动重发。");
          setTimeout(flush, 5000);
          break;
        }
        var rest = loadQueue();
        if (data.stale) {
          var chain = dropChain(rest, item.aid);
          rest = chain.kept;
          var lost = chain.dropped.length ? "未保存的内容：" + chain.dropped.join("、") : "";
          flash(data.error + (lost ? "\n" + lost : ""));
        } else {
          rest = rest.filter(function (i) { return i.aid !== item.aid; });
          if (data.error) flash(data.error);
          else if (data.warning) flash(data.warning);
          else if (data.message) flash(data.message, true);
        }
        saveQueue(rest);
        if (data.screen && (!rest.length || !current || sameTarget(data.screen, current))) {
          show(data.screen);
        }
      }
    } finally {
      sending = false;
      banner();
    }
  }

  function sameTarget(a, b) {
    return a.kind === b.kind && (a.record_id || a.id) === (b.record_id || b.id);
  }

  // -------------------------------------------------------------------------- reading screens

  async function get(path) {
    var response;
    try {
      response = await fetchWithin(API + path, {
        credentials: "same-origin",
        headers: { "X-Canbao-Chat": "1" },
      }, 15000);
    } catch (e) {
      setOnline(false);
      return null;
    }
    if (!online) setOnline(true);
    var data = await response.json().catch(function () { return null; });
    if (response.status === 401) {
      signedOut(data);
      return null;
    }
    if (!response.ok || !data) {
      flash((data && data.error) || "加载失败，请稍后再试。");
      return null;
    }
    return data;
  }

  function routeOf(screen) {
    if (screen.kind === "households") return "#/";
    if (screen.kind === "household") return "#/h/" + screen.id;
    if (screen.kind === "person") return "#/p/" + screen.id;
    return "#/r/" + screen.record_id;
  }

  function show(screen) {
    var route = routeOf(screen);
    if (location.hash !== route) history.replaceState(null, "", route);
    draw(screen);
  }

  async function open(route) {
    if (route !== undefined && location.hash !== route) {
      history.pushState(null, "", route);
    }
    var hash = location.hash || "#/";
    var m = /^#\/(h|p|r)\/(\d+)$/.exec(hash);
    var path = "households";
    if (m) path = { h: "households/", p: "persons/", r: "records/" }[m[1]] + m[2];
    else if (/^#\/\?/.test(hash)) path = "households" + hash.slice(2);
    var data = await get(path);
    if (data && data.screen) {
      draw(data.screen);
    } else if (m && m[1] === "r" && !online) {
      draw({ kind: "record", record_id: Number(m[2]), offline: true, person: { name: "" } });
    } else if (!online) {
      clear();
      screenEl.appendChild(el("p", "notice", "离线：暂时无法加载，联网后自动恢复。"));
    }
  }

  function signedOut(data) {
    confirmed = false; // nothing is sent until someone signs in again
    clear();
    current = null;
    whoEl.textContent = "";
    screenEl.appendChild(el("p", "notice", (data && data.error) || "登录已失效。"));
    var n = loadQueue().length;
    if (n) screenEl.appendChild(el("p", "", "本机还有 " + n + " 条待发送，重新登录后自动发送。"));
  }

  // --------------------------------------------------------------------------------- drawing

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function button(text, onClick, cls) {
    var b = el("button", cls || "", text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function clear() {
    while (screenEl.firstChild) screenEl.removeChild(screenEl.firstChild);
  }

  function flash(text, ok) {
    flashEl.hidden = !text;
    flashEl.textContent = text || "";
    flashEl.className = ok ? "flash ok" : "flash";
  }

  function draw(screen) {
    current = screen;
    clear();
    ({
      households: drawHouseholds,
      household: drawHousehold,
      person: drawPerson,
      record: drawRecord,
      done: drawDone,
    })[screen.kind](screen);
  }

  function drawHouseholds(s) {
    screenEl.appendChild(el("h1", "", "我的入户名单（共 " + s.total + " 户）"));
    var form = el("form", "search");
    var input = el("input");
    input.name = "q";
    input.placeholder = "户号或姓氏";
    input.value = s.query || "";
    form.appendChild(input);
    form.appendChild(el("button", "", "搜索"));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      open("#/?q=" + encodeURIComponent(input.value.trim()) + "&page=1");
    });
    screenEl.appendChild(form);
    if (s.returned.length) {
      screenEl.appendChild(el("h2", "", "已退回，需要修改（" + s.returned.length + "）"));
      var back = el("ul", "list returned");
      s.returned.forEach(function (r) {
        var item = el("li");
        item.appendChild(button(r.name + "：" + r.comment, function () {
          enqueue("collect", { person: r.person }, "修改 " + r.name);
        }, "row"));
        back.appendChild(item);
      });
      screenEl.appendChild(back);
    }
    var list = el("ul", "list");
    s.rows.forEach(function (row) {
      var item = el("li", row.complete ? "done" : "");
      var title = (row.complete ? "✅ " : "") + "户号 " + row.number + "（" + row.community + "，" + row.size + " 人）";
      item.appendChild(button(title, function () { open("#/h/" + row.id); }, "row"));
      if (row.missing.length) {
        item.appendChild(el("div", "missing", "还差：" + row.missing.map(function (m) { return m.name + "（" + m.status + "）"; }).join("、")));
      }
      if (row.last_contact) {
        item.appendChild(el("div", "meta", "最近联系：" + row.last_contact.on + " " + row.last_contact.name + " " + row.last_contact.outcome));
      }
      list.appendChild(item);
    });
    screenEl.appendChild(list);
    var nav = el("nav", "pager");
    var q = encodeURIComponent(s.query || "");
    if (s.page > 1) nav.appendChild(button("‹ 上一页", function () { open("#/?q=" + q + "&page=" + (s.page - 1)); }));
    nav.appendChild(el("span", "", "第 " + s.page + "/" + s.pages + " 页"));
    if (s.page < s.pages) nav.appendChild(button("下一页 ›", function () { open("#/?q=" + q + "&page=" + (s.page + 1)); }));
    screenEl.appendChild(nav);
  }

  function drawHousehold(s) {
    screenEl.appendChild(el("h1", "", s.community + " 户号 " + s.number));
    var list = el("ul", "list");
    s.members.forEach(function (m) {
      var item = el("li", m.done ? "done" : "");
      var text = (m.done ? "✅ " : "") + m.name + (m.on_roster ? "" : "（名册外）") + " " + m.id_number + " — " + m.status;
      item.appendChild(button(text, function () { open("#/p/" + m.id); }, "row"));
      list.appendChild(item);
    });
    screenEl.appendChild(list);
    screenEl.appendChild(el("p", s.completeness.complete ? "complete" : "missing", s.completeness.text));
    if (s.insured_contacts.length) {
      screenEl.appendChild(el("h2", "", "已参保家庭成员（人户分离时可联系）"));
      s.insured_contacts.forEach(function (c) {
        screenEl.appendChild(el("div", "meta", c.name + "（" + c.relation + "）" + (c.phone || "无电话")));
      });
    }
    var form = el("form", "add-person");
    form.appendChild(el("h2", "", "添加名册外人员"));
    var name = el("input");
    name.name = "name";
    name.placeholder = "姓名";
    var number = el("input");
    number.name = "id_number";
    number.placeholder = "18位公民身份号码";
    number.autocomplete = "off";
    form.appendChild(name);
    form.appendChild(number);
    form.appendChild(el("button", "", "添加并采集"));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      enqueue("add_person", { household: s.id, name: name.value, id_number: number.value }, "添加 " + name.value);
    });
    screenEl.appendChild(form);
    screenEl.appendChild(button("‹ 返回名单", function () { open("#/"); }));
  }

  function drawPerson(s) {
    screenEl.appendChild(el("h1", "", s.name + "（" + s.id_number + "）"));
    screenEl.appendChild(el("p", "meta", s.community + " 户号 " + s.household.number + (s.on_roster ? "" : " · 名册外人员")));
    screenEl.appendChild(el("p", "status", "状态：" + s.status));
    screenEl.appendChild(el("p", "", "手机：" + (s.mobile || "名册未提供")));
    if (s.residence) screenEl.appendChild(el("p", "", "居住地址：" + s.residence));
    if (s.can_collect) {
      screenEl.appendChild(button("采集：" + s.name, function () {
        enqueue("collect", { person: s.id }, "采集 " + s.name);
      }, "primary collect"));
    }
    screenEl.appendChild(el("h2", "", "记录联系（" + s.today + "）"));
    var note = el("input");
    note.name = "note";
    note.placeholder = "备注（可选）";
    screenEl.appendChild(note);
    var outcomes = el("div", "choices");
    s.outcomes.forEach(function (o) {
      outcomes.appendChild(button(o.label, function () {
        enqueue("contact", { person: s.id, outcome: o.code, note: note.value }, o.label);
      }));
    });
    screenEl.appendChild(outcomes);
    screenEl.appendChild(el("h2", "", "联系记录（共 " + s.contacts.length + " 次）"));
    var log = el("ul", "log");
    s.contacts.forEach(function (c) {
      log.appendChild(el("li", "", c.on + " " + c.outcome + "（" + c.by + "）" + (c.note ? "：" + c.note : "")));
    });
    screenEl.appendChild(log);
    screenEl.appendChild(button("‹ 返回本户", function () { open("#/h/" + s.household.id); }));
  }

  function step(op, body, label) {
    enqueue(op, Object.assign({ record: current.record_id }, body || {}), label);
  }

  function drawRecord(s) {
    var head = el("h1", "", "采集：" + (s.person.name || "") + (s.person.id_number ? "（" + s.person.id_number + "）" : ""));
    screenEl.appendChild(head);
    if (s.returned) {
      screenEl.appendChild(el("p", "notice", "已退回修改：" + s.returned.comment + (s.returned.fields.length ? "（需要修改：" + s.returned.fields.join("、") + "）" : "")));
    }
    var pending = pendingFor(s.record_id);
    var log = el("div", "chat");
    if (s.prompt) {
      var p = s.prompt;
      var q = el("div", "bubble bot question");
      q.appendChild(el("div", "label", "（" + p.step + "/" + p.total + "）" + p.label));
      if (p.hint) q.appendChild(el("div", "hint", p.hint));
      if (p.current) q.appendChild(el("div", "current", "当前：" + p.current));
      log.appendChild(q);
    } else if (s.stage === "review") {
      var review = el("div", "bubble bot review");
      review.appendChild(el("div", "label", "请核对已填内容："));
      var dl = el("dl");
      s.summary.forEach(function (item) {
        dl.appendChild(el("dt", "", item.label));
        var dd = el("dd", "", item.value);
        if (item.editable && !pending.length) {
          dd.appendChild(button("修改", function () { step("edit", { field: item.name }, "修改 " + item.label); }, "link-button"));
        }
        dl.appendChild(dd);
      });
      review.appendChild(dl);
      s.warnings.forEach(function (w) { review.appendChild(el("p", "warning", w.message)); });
      log.appendChild(review);
    } else if (s.stage === "complete") {
      log.appendChild(el("div", "bubble bot", "已填完，请提交。"));
    } else if (s.offline) {
      log.appendChild(el("div", "bubble bot", "离线：暂时无法显示当前问题。可以继续按顺序输入答案，联网后自动提交。"));
    }
    pending.forEach(function (item) {
      log.appendChild(el("div", "bubble me pending", "⏳ " + item.label));
    });
    screenEl.appendChild(log);

    var tools = el("div", "choices");
    if (pending.length || s.offline) {
      screenEl.appendChild(el("p", "hint", "离线或正在发送：请按顺序输入后面各题的答案（选项可直接输入文字），联网后按顺序提交。"));
    } else if (s.prompt) {
      var pr = s.prompt;
      if (pr.kind === "select_multiple") {
        pr.choices.forEach(function (c) {
          tools.appendChild(button((c.selected ? "☑ " : "☐ ") + c.label, function () { step("toggle", { code: c.code }, c.label); }));
        });
        tools.appendChild(button("选好了", function () { step("finish", {}, "选好了"); }, "primary"));
      } else {
        pr.choices.forEach(function (c) {
          tools.appendChild(button(c.label, function () { step("answer", { text: c.code }, c.label); }));
        });
      }
      if (pr.prefilled || pr.current) tools.appendChild(button("保持不变", function () { step("keep", {}, "保持不变"); }));
      if (pr.optional) tools.appendChild(button("跳过", function () { step("skip", {}, "跳过"); }));
    } else if (s.stage === "review") {
      if (s.warnings.length) tools.appendChild(button("已核对提示", function () { step("confirm_warnings", {}, "已核对提示"); }));
      tools.appendChild(button("确认无误", function () { step("proceed", {}, "确认无误"); }, "primary"));
    } else if (s.stage === "complete") {
      tools.appendChild(button("提交", function () { step("submit", {}, "提交"); }, "primary submit"));
    }
    screenEl.appendChild(tools);

    var allowText = pending.length || s.offline || (s.prompt && s.prompt.allow_text);
    if (allowText) {
      var form = el("form", "text-form");
      form.autocomplete = "off";
      var input = el("input");
      input.id = "answer";
      input.name = "text";
      input.maxLength = 2000;
      input.placeholder = "在这里输入";
      // A redraw (an answer acknowledged meanwhile) keeps what is being typed.
      if (typing.record === s.record_id) input.value = typing.text;
      input.addEventListener("input", function () {
        typing = { record: s.record_id, text: input.value };
      });
      form.appendChild(input);
      form.appendChild(el("button", "", "发送"));
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var text = input.value;
        if (!text.trim()) return;
        input.value = "";
        typing = { record: null, text: "" };
        step("answer", { text: text }, text);
      });
      screenEl.appendChild(form);
      input.focus();
    }
    var nav = el("nav", "tools");
    if (s.can_back && !pending.length) nav.appendChild(button("上一题", function () { step("back", {}, "上一题"); }));
    if (s.household) nav.appendChild(button("‹ 返回本户", function () { open("#/h/" + s.household.id); }));
    screenEl.appendChild(nav);
  }

  function drawDone(s) {
    screenEl.appendChild(el("h1", "", (s.person.name || "") + " 已提交"));
    screenEl.appendChild(el("p", "", "登记编号 " + s.reference));
    screenEl.appendChild(el("p", s.completeness.complete ? "complete" : "missing", s.completeness.text));
    screenEl.appendChild(button("继续本户", function () { open("#/h/" + s.household.id); }, "primary"));
    screenEl.appendChild(button("‹ 返回名单", function () { open("#/"); }));
  }

  // ------------------------------------------------------------------------------ start-up

  window.addEventListener("online", function () { setOnline(true); });
  window.addEventListener("offline", function () { setOnline(false); });
  window.addEventListener("popstate", function () { open(); });
  document.getElementById("home").addEventListener("click", function () { open("#/"); });
  setInterval(function () { if (loadQueue().length) flush(); }, 10000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/i/sw.js", { scope: "/i/" }).catch(function () {});
  }

  var starting = false;
  function start() {
    if (starting) return;
    starting = true;
    get("me").then(function (me) {
      starting = false;
      if (!me) {
        if (!isOnline()) open();
        return;
      }
      who = String(me.id);
      localStorage.setItem(WHO_KEY, who);
      confirmed = true;
      whoEl.textContent = "调查员 " + me.name;
      banner();
      open();
      flush();
    });
  }

  banner();
  start();
})();
