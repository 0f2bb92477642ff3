// The chat page: draws the server's view of the conversation and sends one action at a time.
// No framework and no external files: the page must work offline in any current browser.
//
// Layout of this file: texts (the page's language), drawing helpers, talking to the server,
// the composer (buttons and text box), the stages, the summary panel and the tool bar, start.
(function () {
  "use strict";

  var app = document.getElementById("app");
  var api = app.getAttribute("data-api");
  var preview = app.getAttribute("data-mode") === "preview";
  var log = document.getElementById("log");
  var choices = document.getElementById("choices");
  var textForm = document.getElementById("text-form");
  var textBox = document.getElementById("text");
  var backBtn = document.getElementById("back");
  var summaryBtn = document.getElementById("summary-btn");
  var panel = document.getElementById("panel");
  var panelBody = document.getElementById("panel-body");
  var progress = document.getElementById("progress");
  var announcer = document.getElementById("announce");
  var panelOpener = null; // what had the focus before the summary panel opened

  var view = null; // the last view the server sent
  var token = null; // preview only: the signed conversation state
  var busy = false;
  var shownState = null; // the question last drawn in the log, so it is not repeated
  var firstDraw = true;
  var lastAction = null;
  var typed = null; // what was typed when the server refused it: given back, not retyped
  var refusal = null; // the id of the bubble that says why, to describe the text box by
  var focusTarget = null; // what takes the focus once the server's answer is drawn
  var preferText = false; // the question is answered by typing: its text box takes the focus
  var lastQuestion = null; // the newest question's bubble
  var bubbles = 0;
  var LONG_LIST = 12; // from this many answers on, a search box filters the buttons

  // ------------------------------------------------------------------ texts

  // The page's texts are Chinese; the server puts the translations of the page's language
  // (bot/locales, extracted from the t("...") calls below) into #chat-strings.
  var strings = {};
  (function () {
    var node = document.getElementById("chat-strings");
    if (!node) return;
    try {
      strings = JSON.parse(node.textContent || "{}") || {};
    } catch (e) {
      strings = {};
    }
  })();

  // The text in the page's language, with {name} replaced by values[name].
  function t(text, values) {
    var out = Object.prototype.hasOwnProperty.call(strings, text) && strings[text] ? strings[text] : text;
    if (values) {
      Object.keys(values).forEach(function (key) {
        out = out.split("{" + key + "}").join(String(values[key]));
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ drawing helpers

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function scrollDown() {
    window.requestAnimationFrame(function () {
      log.scrollTop = log.scrollHeight;
      window.scrollTo(0, document.body.scrollHeight);
    });
  }

  // A new question is shown from its first line: when it and its answers do not fit on the
  // screen together (a long list, a large font, a zoomed page), the page scrolls to the
  // question, not past it to the end of the answers.
  function scrollToQuestion(node) {
    window.requestAnimationFrame(function () {
      var head = document.querySelector(".head");
      var headHeight = head && getComputedStyle(head).position === "sticky" ? head.offsetHeight : 0;
      var box = node.getBoundingClientRect();
      var bottom = document.body.scrollHeight - window.innerHeight;
      var top = window.scrollY + box.top - headHeight - 8;
      window.scrollTo(0, Math.max(0, Math.min(top, bottom)));
    });
  }

  // The page's one live region: messages that are not the question (the question takes the
  // focus, and a screen reader reads what has the focus).
  function announce(text) {
    if (!announcer || !text) return;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function bubble(kind, text, extra) {
    var node = el("div", "bubble " + kind);
    bubbles += 1;
    node.id = "b" + bubbles;
    if (text) {
      var body = el("div", "bubble-text", text);
      body.id = node.id + "-text";
      node.appendChild(body);
    }
    if (extra) node.appendChild(extra);
    log.appendChild(node);
    scrollDown();
    return node;
  }

  // The bubble a person reads next: it gets the focus when the answer is drawn.
  function focusable(node) {
    node.setAttribute("tabindex", "-1");
    focusTarget = node;
    return node;
  }

  // Visually hidden text, for screen readers only.
  function spoken(text) {
    return el("span", "sr-only", text);
  }

  function maskId(text) {
    var s = String(text).replace(/\s+/g, "");
    return s.length > 8 ? s.slice(0, 4) + "*".repeat(s.length - 8) + s.slice(-4) : s;
  }

  function button(label, cls, onClick) {
    var b = el("button", cls || "choice", label);
    b.type = "button";
    b.addEventListener("click", function (event) {
      if (b.disabled || b.getAttribute("aria-disabled") === "true") return;
      onClick(event);
    });
    return b;
  }

  function summaryTable(items, editable) {
    var list = el("dl", "summary");
    items.forEach(function (item) {
      var row = el("div", "summary-row");
      row.appendChild(el("dt", null, item.label));
      var dd = el("dd", null, item.value);
      if (editable && item.editable) {
        var edit = button(t("修改"), "edit", function () {
          closePanel(true);
          send("edit", { field: item.name }, t("修改：{label}", { label: item.label }));
        });
        edit.setAttribute("data-field", item.name);
        edit.setAttribute("aria-label", t("修改：{label}", { label: item.label }));
        dd.appendChild(edit);
      }
      row.appendChild(dd);
      list.appendChild(row);
    });
    return list;
  }

  // ------------------------------------------------------------------ talking to the server

  function request(method, path, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "X-Canbao-Chat": "1", Accept: "application/json" },
    };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    return fetch(api + path, options).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return { error: t("服务器返回的内容无法读取，请稍后刷新页面。") };
          })
          .then(function (data) {
            return { status: response.status, data: data };
          });
      },
      function () {
        return { status: 0, data: { error: t("网络连接失败，请检查网络后再试。您已填写的内容不会丢失。") } };
      }
    );
  }

  var answered = 0; // responses drawn so far, exposed for automated checks of the page

  function handle(result) {
    var data = result.data || {};
    if (data.token) token = data.token;
    focusTarget = null;
    preferText = false;
    refusal = null;
    var said = [];
    // A refusal the new view itself states (a link just locked) is said once, by the view.
    if (data.error && !(data.view && data.view.message === data.error)) {
      refusal = bubble("bot error", data.error).id;
      said.push(data.error);
    } else {
      typed = null;
    }
    if (data.message) said.push(bubble("bot success", data.message) && data.message);
    if (data.warning) said.push(bubble("bot notice", "⚠ " + data.warning) && data.warning);
    if (data.view) render(data.view);
    else if (!view) setControls([]);
    // A refusal the text box is described by is read with it; anything else is announced.
    if (refusal && textBox.getAttribute("aria-describedby") === refusal && preferText) said.shift();
    announce(said.join(" "));
    typed = null;
    takeFocus();
    answered += 1;
    app.setAttribute("data-responses", String(answered));
  }

  // Focus goes to the new question (its text box when it has one and the device has a
  // keyboard), never back to the page's start.
  function takeFocus() {
    // On a touch screen the box is not focused: the on-screen keyboard would cover the question.
    var target = preferText && !("ontouchstart" in window) ? textBox : focusTarget;
    if (!target || panel.open) return;
    try {
      target.focus({ preventScroll: true });
    } catch (e) {
      target.focus();
    }
  }

  function send(action, body, echo) {
    if (busy) return;
    busy = true;
    lastAction = action;
    typed = body && typeof body.text === "string" ? body.text : body && typeof body.id_number === "string" ? body.id_number : null;
    setBusy(true);
    if (echo) bubble("me", echo);
    var payload = body || {};
    if (preview) {
      payload.token = token;
    } else if (action !== "identity") {
      payload.version = view ? view.version : 0;
    }
    request("POST", "/" + action, payload).then(function (result) {
      busy = false;
      setBusy(false);
      handle(result);
    });
  }

  // While the server answers, the buttons keep their look (no fading below contrast): they
  // are marked aria-disabled and ignore clicks, and the page says it is busy.
  function setBusy(on) {
    app.classList.toggle("busy", on);
    app.setAttribute("aria-busy", on ? "true" : "false");
    Array.prototype.forEach.call(document.querySelectorAll(".composer button"), function (b) {
      if (on) {
        b.setAttribute("data-busy", "1");
        b.setAttribute("aria-disabled", "true");
      } else {
        b.removeAttribute("data-busy");
        b.removeAttribute("aria-disabled");
      }
    });
  }

  // ------------------------------------------------------------------ the composer

  // Buttons, and a text box when textOptions is given ({placeholder, inputmode, autocomplete,
  // labelledBy, submit}). Whatever is typed goes to the server, an empty answer too: the
  // server says what it expects. A refused answer stays in the box, marked invalid and
  // described by the message that says why.
  function setControls(buttons, textOptions, label) {
    choices.innerHTML = "";
    choices.removeAttribute("aria-labelledby");
    if (label) {
      choices.setAttribute("role", "group");
      choices.setAttribute("aria-labelledby", label);
    } else {
      choices.removeAttribute("role");
    }
    if (buttons.length >= LONG_LIST) choices.appendChild(searchBox(buttons));
    buttons.forEach(function (b) {
      choices.appendChild(b);
    });
    choices.scrollTop = 0;
    if (textOptions) {
      textForm.hidden = false;
      textBox.value = typed !== null && refusal ? typed : "";
      textBox.placeholder = textOptions.placeholder || t("在这里输入");
      textBox.setAttribute("inputmode", textOptions.inputmode || "text");
      textBox.setAttribute("autocomplete", textOptions.autocomplete || "off");
      if (textOptions.labelledBy) textBox.setAttribute("aria-labelledby", textOptions.labelledBy);
      else textBox.removeAttribute("aria-labelledby");
      if (refusal) {
        textBox.setAttribute("aria-invalid", "true");
        textBox.setAttribute("aria-describedby", refusal);
      } else {
        textBox.removeAttribute("aria-invalid");
        textBox.removeAttribute("aria-describedby");
      }
      textForm.onsubmit = function (event) {
        event.preventDefault();
        textOptions.submit(textBox.value);
      };
      preferText = !buttons.length && focusTarget !== null && focusTarget.classList.contains("question");
    } else {
      textForm.hidden = true;
      textForm.onsubmit = null;
      textBox.removeAttribute("aria-invalid");
      textBox.removeAttribute("aria-describedby");
    }
  }

  // A long list of answers (provinces, cities) gets a search box that hides the buttons not
  // containing what is typed.
  function searchBox(buttons) {
    var wrap = el("div", "choice-search");
    var input = el("input");
    input.type = "search";
    input.id = "choice-search";
    input.setAttribute("autocomplete", "off");
    input.setAttribute("aria-label", t("搜索选项"));
    input.placeholder = t("输入几个字查找，如“苏州”");
    var count = el("span", "sr-only");
    count.id = "choice-search-count";
    count.setAttribute("aria-live", "off");
    input.setAttribute("aria-describedby", count.id);
    input.addEventListener("input", function () {
      var words = input.value.replace(/\s+/g, "");
      var shown = 0;
      buttons.forEach(function (b) {
        var keep = !words || b.classList.contains("primary") || b.classList.contains("secondary") || b.textContent.indexOf(words) !== -1;
        b.hidden = !keep;
        if (keep) shown += 1;
      });
      count.textContent = t("找到 {n} 项", { n: shown });
    });
    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      var first = buttons.filter(function (b) { return !b.hidden; })[0];
      if (first) first.focus();
    });
    wrap.appendChild(input);
    wrap.appendChild(count);
    return wrap;
  }

  // What the browser may offer to fill in, by the question (WCAG 1.3.5).
  function autocompleteFor(prompt) {
    if (prompt.kind === "mobile") return "tel-national";
    if (prompt.name === "name" || prompt.name === "confirmer_name") return "name";
    if (prompt.kind === "address_part" && prompt.part === "road") return "address-line1";
    return "off";
  }

  function questionControls(prompt, questionLabel) {
    var buttons = [];
    var multi = prompt.kind === "select_multiple";
    if (prompt.kind === "note") {
      buttons.push(button(t("我已阅读，继续"), "choice primary", function () {
        send("answer", { text: "" }, t("我已阅读"));
      }));
    }
    prompt.choices.forEach(function (choice) {
      if (multi) {
        var b = button(choice.label, "choice toggle" + (choice.selected ? " on" : ""), function () {
          send("toggle", { code: choice.code });
        });
        b.setAttribute("aria-pressed", choice.selected ? "true" : "false");
        b.setAttribute("data-code", choice.code);
        buttons.push(b);
      } else {
        buttons.push(button(choice.label, "choice", function () {
          send("answer", { text: choice.code }, choice.label);
        }));
      }
    });
    if (multi) {
      var picked = prompt.choices.filter(function (c) { return c.selected; });
      buttons.push(button(t("完成"), "choice primary", function () {
        send("finish", {}, picked.map(function (c) { return c.label; }).join("、") || t("完成"));
      }));
    }
    if (prompt.current !== null && !multi && prompt.kind !== "confirm") {
      buttons.push(button(t("确认：{value}", { value: prompt.current }), "choice primary keep", function () {
        send("keep", {}, prompt.current);
      }));
    }
    if (prompt.optional) {
      buttons.push(button(t("跳过"), "choice secondary", function () {
        send("skip", {}, t("跳过"));
      }));
    }
    var text = null;
    if (prompt.allow_text && prompt.kind !== "note" && prompt.kind !== "confirm") {
      var numeric = prompt.kind === "mobile";
      text = {
        placeholder: prompt.current !== null ? t("输入新的内容，或点上面的“确认”") : t("在这里输入"),
        inputmode: numeric ? "tel" : "text",
        autocomplete: autocompleteFor(prompt),
        labelledBy: questionLabel,
        submit: function (value) {
          var shown = prompt.kind === "id_number" ? maskId(value) : value;
          send("answer", { text: value }, shown.trim() ? shown : null);
        },
      };
    }
    setControls(buttons, text, questionLabel);
  }

  // ------------------------------------------------------------------ the stages

  function drawIdentity(v) {
    if (firstDraw) {
      // Before the identity check: the surname and the community, nothing of the number.
      bubble("bot", t("您好！这里是苏州市全民参保登记。本次登记对象：{surname}某（{community}）。", v.person));
    }
    var extra = el("div", "bubble-extra");
    extra.appendChild(el("div", "hint", t("还可以尝试 {n} 次", { n: v.attempts_left })));
    extra.appendChild(largeTextSwitch());
    var node = focusable(bubble("bot question", t("请输入登记对象的18位公民身份号码，核对身份后开始填写。"), extra));
    lastQuestion = node;
    setControls([], {
      placeholder: t("18位公民身份号码"),
      autocomplete: "off",
      labelledBy: node.id + "-text",
      submit: function (value) {
        send("identity", { id_number: value }, value.trim() ? maskId(value) : null);
      },
    });
  }

  function drawQuestion(prompt) {
    // Toggling an option of a multi-select redraws its buttons, not the question.
    if (lastAction === "toggle" && shownState === prompt.state) {
      var pressed = document.activeElement && document.activeElement.getAttribute("data-code");
      questionControls(prompt, lastQuestion ? lastQuestion.id + "-text" : null);
      // The toggled button keeps the focus, so its new state is what a screen reader says.
      var again = pressed && choices.querySelector("[data-code='" + pressed + "']");
      focusTarget = again || choices.querySelector("button");
      return;
    }
    var extra = el("div", "bubble-extra");
    if (prompt.hint) extra.appendChild(el("div", "hint", prompt.hint));
    if (prompt.current !== null && prompt.kind !== "confirm") {
      var shown = { value: prompt.current };
      var said = prompt.prefilled ? t("登记信息中为：{value}", shown) : t("已填写：{value}", shown);
      extra.appendChild(el("div", "current", said));
    }
    if (prompt.kind === "select_multiple") extra.appendChild(el("div", "hint", t("可以多选，选好后点“完成”。")));
    extra.appendChild(spoken(choicesSaid(prompt)));
    var label = prompt.optional ? t("{label}（可不填）", { label: prompt.label }) : prompt.label;
    var node = focusable(bubble("bot question", label, extra));
    node.setAttribute("data-state", prompt.state);
    lastQuestion = node;
    shownState = prompt.state;
    questionControls(prompt, node.id + "-text");
    scrollToQuestion(node);
  }

  // The answers, said with the question (a long list by its length: it has a search box).
  function choicesSaid(prompt) {
    var labels = prompt.choices.map(function (c) { return c.label + (c.selected ? t("（已选）") : ""); });
    if (!labels.length) return "";
    if (labels.length >= LONG_LIST) return t("共 {n} 个选项，可在下方搜索。", { n: labels.length });
    return t("选项：{choices}。", { choices: labels.join("、") });
  }

  function drawReview(v) {
    var extra = el("div", "bubble-extra");
    extra.appendChild(summaryTable(v.summary, true));
    if (v.returned && v.returned.awaiting.length) {
      extra.appendChild(el("div", "warning", t("退回时需要修改、还没有重新回答的项目：{fields}。请点该项的“修改”，改正或确认原来的内容。", { fields: v.returned.awaiting.join("、") })));
    }
    v.warnings.forEach(function (w) {
      extra.appendChild(el("div", "warning", "⚠ " + w.message));
    });
    focusable(bubble("bot review", t("请核对您填写的信息。需要修改的，点该项的“修改”。"), extra));
    var buttons = [];
    if (v.warnings.length) {
      buttons.push(button(t("答案无误，继续"), "choice primary", function () {
        confirmThenProceed();
      }));
    } else {
      buttons.push(button(t("确认无误，继续"), "choice primary", function () {
        send("proceed", {}, t("确认无误"));
      }));
    }
    setControls(buttons);
  }

  function confirmThenProceed() {
    if (busy) return;
    busy = true;
    bubble("me", t("答案无误"));
    var body = preview ? { token: token } : { version: view.version };
    request("POST", "/confirm_warnings", body).then(function (result) {
      busy = false;
      if (result.status !== 200) return handle(result);
      if (result.data.token) token = result.data.token;
      view = result.data.view;
      send("proceed", {});
    });
  }

  function drawComplete(v) {
    var extra = el("div", "bubble-extra");
    extra.appendChild(summaryTable(v.summary, false));
    var buttons = [];
    if (v.returned) {
      focusable(bubble("bot", t("表格已重新填好。如还需修改请点下方的“已填内容 / 修改”，否则请点“重新提交”。"), extra));
      buttons.push(button(t("重新提交"), "choice primary", function () { send("submit", {}, t("重新提交")); }));
    } else {
      focusable(bubble("bot", t("全部填写完成。确认无误后请点“提交”；需要修改请点下方的“已填内容 / 修改”。"), extra));
      buttons.push(button(t("提交"), "choice primary", function () { send("submit", {}, t("提交")); }));
    }
    setControls(buttons);
  }

  function drawFinished(v) {
    var extra = el("div", "bubble-extra");
    if (v.summary && v.summary.length) extra.appendChild(summaryTable(v.summary, false));
    var text = v.preview
      ? t("预览结束：以下是将会保存的内容（预览不会保存）。可以点上方的“重新开始”再试一次。")
      : t("登记编号 {reference}，当前状态：{status}。", { reference: v.reference, status: v.status_text });
    focusable(bubble("bot done", text, extra));
    (v.policy_notes || []).forEach(function (note) {
      bubble("bot policy", note);
    });
    setControls([]);
  }

  // The reviewer's comment and what to change, once when the page meets a returned record.
  function drawReturned(v) {
    var text = t("社保经办机构退回了您的登记，请修改后重新提交。意见：{comment}", { comment: v.returned.comment });
    if (v.returned.fields.length) {
      text += "\n" + t("需要修改：{fields}。请逐项改正，或点“确认”保留原来的内容。", { fields: v.returned.fields.join("、") });
    }
    bubble("bot notice", text);
  }

  function drawProgress(v) {
    var prompt = v.prompt;
    progress.textContent = prompt && prompt.remaining ? t("还剩 {n} 题", { n: prompt.remaining }) : "";
  }

  function drawTools(v) {
    var stage = v.stage;
    var open = stage === "question" || stage === "review" || stage === "complete";
    backBtn.disabled = !(open && v.can_back);
    summaryBtn.disabled = !(open && v.summary && v.summary.length);
  }

  function render(v) {
    var before = view;
    view = v;
    // What was drawn for an earlier step no longer applies: its 修改 buttons leave the Tab
    // order and do nothing.
    Array.prototype.forEach.call(log.querySelectorAll(".edit"), function (b) {
      b.disabled = true;
    });
    var stage = v.stage;
    app.setAttribute("data-stage", stage);
    app.setAttribute("data-state", v.prompt ? v.prompt.state : "");
    (v.notices || []).forEach(function (text) {
      bubble("bot notice", text);
    });
    if (firstDraw && v.person && stage !== "identity" && stage !== "locked") {
      bubble("bot", t("您好！这是 {name}（{id}）的全民参保登记。", v.person));
    }
    if (v.returned && (!before || !before.returned)) drawReturned(v);
    if (firstDraw && !v.returned && (stage === "question" || stage === "review") && v.summary && v.summary.length) {
      var extra = el("div", "bubble-extra");
      extra.appendChild(summaryTable(v.summary, false));
      bubble("bot", t("您已填写的内容（接着上次的进度继续）："), extra);
    }
    drawTools(v);
    drawProgress(v);

    if (stage === "identity") {
      drawIdentity(v);
    } else if (stage === "locked" || stage === "duplicate") {
      focusable(bubble("bot error", v.message));
      setControls([]);
    } else if (stage === "question") {
      drawQuestion(v.prompt);
    } else if (stage === "review") {
      shownState = null;
      drawReview(v);
    } else if (stage === "complete") {
      shownState = null;
      drawComplete(v);
    } else {
      drawFinished(v);
    }
    firstDraw = false;
  }

  // ------------------------------------------------------------------ the summary panel

  // A modal dialog: the page behind it is inert, the focus starts inside, Escape closes it and
  // the focus goes back to the button that opened it.
  function openPanel() {
    if (!view || !view.summary || busy) return;
    panelBody.innerHTML = "";
    panelBody.appendChild(summaryTable(view.summary, true));
    panelOpener = document.activeElement;
    if (typeof panel.showModal === "function") panel.showModal();
    else panel.setAttribute("open", "");
    document.getElementById("panel-close").focus();
  }

  // leaving: an edit was picked, the focus goes to the question it opens instead.
  function closePanel(leaving) {
    if (panel.open) {
      if (typeof panel.close === "function") panel.close();
      else panel.removeAttribute("open");
    }
    if (leaving !== true && panelOpener && panelOpener.focus) panelOpener.focus();
    panelOpener = null;
  }

  backBtn.addEventListener("click", function () { send("back", {}, t("返回上一题")); });
  summaryBtn.addEventListener("click", openPanel);
  document.getElementById("panel-close").addEventListener("click", closePanel);
  panel.addEventListener("cancel", function (event) {
    event.preventDefault(); // Escape: closed here, so the focus goes back where it was
    closePanel();
  });

  // ------------------------------------------------------------------ large text, reading aloud

  // 大字模式: larger type and buttons, one answer a row; remembered by this browser only.
  var LARGE_KEY = "canbao.largeText";

  function largeTextOn() {
    try {
      return window.localStorage.getItem(LARGE_KEY) === "1";
    } catch (e) {
      return document.documentElement.classList.contains("large");
    }
  }

  function setLargeText(on) {
    document.documentElement.classList.toggle("large", on);
    try {
      if (on) window.localStorage.setItem(LARGE_KEY, "1");
      else window.localStorage.removeItem(LARGE_KEY);
    } catch (e) {
      // storage refused (private mode): the switch still works on this page
    }
    Array.prototype.forEach.call(document.querySelectorAll(".large-switch"), function (b) {
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }

  function largeTextSwitch() {
    var b = button(t("大字模式"), "large-switch", function () {
      setLargeText(!document.documentElement.classList.contains("large"));
    });
    b.setAttribute("aria-pressed", largeTextOn() ? "true" : "false");
    return b;
  }

  // The question read aloud by the browser's own speech synthesis (nothing leaves the
  // device), in a Chinese voice when the device has one.
  function readAloud() {
    var node = lastQuestion;
    if (!node || !window.speechSynthesis) return;
    var parts = [];
    Array.prototype.forEach.call(node.querySelectorAll(".bubble-text, .hint, .current, .sr-only"), function (n) {
      if (n.textContent) parts.push(n.textContent);
    });
    var speech = window.speechSynthesis;
    speech.cancel();
    var utterance = new window.SpeechSynthesisUtterance(parts.join("。"));
    var lang = document.documentElement.lang || "zh-CN";
    utterance.lang = lang;
    var wanted = lang.slice(0, 2).toLowerCase();
    var voice = (speech.getVoices() || []).filter(function (v) {
      return v.lang.replace("_", "-").toLowerCase() === lang.toLowerCase();
    })[0] || (speech.getVoices() || []).filter(function (v) {
      return v.lang.slice(0, 2).toLowerCase() === wanted;
    })[0];
    if (voice) utterance.voice = voice;
    utterance.rate = 0.9;
    speech.speak(utterance);
  }

  if (window.speechSynthesis && window.SpeechSynthesisUtterance) {
    var readBtn = button(t("朗读题目"), "tool", readAloud);
    readBtn.id = "read-aloud";
    document.querySelector(".tools").appendChild(readBtn);
  }
  setLargeText(largeTextOn());

  // ------------------------------------------------------------------ start

  function startPreview(mode) {
    token = null;
    view = null;
    firstDraw = true;
    shownState = null;
    log.innerHTML = "";
    request("POST", "/state", { mode: mode }).then(handle);
  }

  if (preview) {
    document.getElementById("restart").addEventListener("click", function () { startPreview("resident"); });
    document.getElementById("restart-investigator").addEventListener("click", function () { startPreview("investigator"); });
    startPreview("resident");
  } else {
    request("GET", "/state").then(handle);
  }
})();
