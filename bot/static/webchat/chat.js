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

  var view = null; // the last view the server sent
  var token = null; // preview only: the signed conversation state
  var busy = false;
  var shownState = null; // the question last drawn in the log, so it is not repeated
  var firstDraw = true;
  var lastAction = null;

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

  function bubble(kind, text, extra) {
    var node = el("div", "bubble " + kind);
    if (text) node.appendChild(el("div", "bubble-text", text));
    if (extra) node.appendChild(extra);
    log.appendChild(node);
    scrollDown();
    return node;
  }

  function maskId(text) {
    var s = String(text).replace(/\s+/g, "");
    return s.length > 8 ? s.slice(0, 4) + "*".repeat(s.length - 8) + s.slice(-4) : s;
  }

  function button(label, cls, onClick) {
    var b = el("button", cls || "choice", label);
    b.type = "button";
    b.addEventListener("click", onClick);
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
          closePanel();
          send("edit", { field: item.name }, t("修改：{label}", { label: item.label }));
        });
        edit.setAttribute("data-field", item.name);
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
    // A refusal the new view itself states (a link just locked) is said once, by the view.
    if (data.error && !(data.view && data.view.message === data.error)) bubble("bot error", data.error);
    if (data.message) bubble("bot success", data.message);
    if (data.warning) bubble("bot notice", "⚠ " + data.warning);
    if (data.view) render(data.view);
    else if (!view) setControls([]);
    answered += 1;
    app.setAttribute("data-responses", String(answered));
  }

  function send(action, body, echo) {
    if (busy) return;
    busy = true;
    lastAction = action;
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

  function setBusy(on) {
    app.classList.toggle("busy", on);
    Array.prototype.forEach.call(document.querySelectorAll(".composer button"), function (b) {
      if (on) b.setAttribute("data-busy", "1");
      else b.removeAttribute("data-busy");
    });
  }

  // ------------------------------------------------------------------ the composer

  // Buttons, and a text box when textOptions is given ({placeholder, inputmode, submit}).
  // Whatever is typed goes to the server, an empty answer too: the server says what it expects.
  function setControls(buttons, textOptions) {
    choices.innerHTML = "";
    buttons.forEach(function (b) {
      choices.appendChild(b);
    });
    if (textOptions) {
      textForm.hidden = false;
      textBox.value = "";
      textBox.placeholder = textOptions.placeholder || t("在这里输入");
      textBox.setAttribute("inputmode", textOptions.inputmode || "text");
      textForm.onsubmit = function (event) {
        event.preventDefault();
        textOptions.submit(textBox.value);
      };
      if (!("ontouchstart" in window)) textBox.focus();
    } else {
      textForm.hidden = true;
      textForm.onsubmit = null;
    }
  }

  function questionControls(prompt) {
    var buttons = [];
    var multi = prompt.kind === "select_multiple";
    if (prompt.kind === "note") {
      buttons.push(button(t("我已阅读，继续"), "choice primary", function () {
        send("answer", { text: "" }, t("我已阅读"));
      }));
    }
    prompt.choices.forEach(function (choice) {
      if (multi) {
        var b = button((choice.selected ? "✓ " : "") + choice.label, "choice toggle" + (choice.selected ? " on" : ""), function () {
          send("toggle", { code: choice.code });
        });
        b.setAttribute("aria-pressed", choice.selected ? "true" : "false");
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
        inputmode: numeric ? "numeric" : "text",
        submit: function (value) {
          var shown = prompt.kind === "id_number" ? maskId(value) : value;
          send("answer", { text: value }, shown.trim() ? shown : null);
        },
      };
    }
    setControls(buttons, text);
  }

  // ------------------------------------------------------------------ the stages

  function drawIdentity(v) {
    if (firstDraw) {
      // Before the identity check: the surname and the community, nothing of the number.
      bubble("bot", t("您好！这里是苏州市全民参保登记。本次登记对象：{surname}某（{community}）。", v.person));
    }
    bubble(
      "bot question",
      t("请输入登记对象的18位公民身份号码，核对身份后开始填写。"),
      el("div", "hint", t("还可以尝试 {n} 次", { n: v.attempts_left }))
    );
    setControls([], {
      placeholder: t("18位公民身份号码"),
      submit: function (value) {
        send("identity", { id_number: value }, value.trim() ? maskId(value) : null);
      },
    });
  }

  function drawQuestion(prompt) {
    // Toggling an option of a multi-select redraws its buttons, not the question.
    if (lastAction === "toggle" && shownState === prompt.state) {
      questionControls(prompt);
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
    var label = prompt.optional ? t("{label}（可不填）", { label: prompt.label }) : prompt.label;
    var node = bubble("bot question", label, extra);
    node.setAttribute("data-state", prompt.state);
    shownState = prompt.state;
    questionControls(prompt);
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
    bubble("bot review", t("请核对您填写的信息。需要修改的，点该项的“修改”。"), extra);
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
      bubble("bot", t("表格已重新填好。如还需修改请点下方的“已填内容 / 修改”，否则请点“重新提交”。"), extra);
      buttons.push(button(t("重新提交"), "choice primary", function () { send("submit", {}, t("重新提交")); }));
    } else {
      bubble("bot", t("全部填写完成。确认无误后请点“提交”；需要修改请点下方的“已填内容 / 修改”。"), extra);
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
    bubble("bot done", text, extra);
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
      bubble("bot error", v.message);
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

  function openPanel() {
    if (!view || !view.summary) return;
    panelBody.innerHTML = "";
    panelBody.appendChild(summaryTable(view.summary, true));
    panel.hidden = false;
  }

  function closePanel() {
    panel.hidden = true;
  }

  backBtn.addEventListener("click", function () { send("back", {}, t("返回上一题")); });
  summaryBtn.addEventListener("click", openPanel);
  document.getElementById("panel-close").addEventListener("click", closePanel);

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
