// The console: who is signed in, which pages their roles get, and the page router (#dispatch, #school, #audit,
// #mous and its screens: #mous/<mou>, #mous/<mou>/edit, #mous/<mou>/diff/<from>/<to>, ...).
import { devToken, setDevToken, whoAmI } from "./api.js";
import { auditPage } from "./audit.js";
import { dispatchPage } from "./dispatch.js";
import { h } from "./dom.js";
import { mousPage } from "./mouadmin.js";
import { schoolPage } from "./school.js";

const PAGES = {
  dispatch: { title: "Dispatch", roles: ["officer", "dispatcher", "supervisor"], render: dispatchPage },
  school: { title: "School IT", roles: ["operator", "principal", "superintendent"], render: schoolPage },
  audit: { title: "Audit", roles: ["auditor"], render: auditPage },
  // MOU administration: school IT and police command staff (the settings' mous.parties roles in the demo).
  mous: { title: "MOUs", roles: ["operator", "superintendent", "chief", "supervisor"], render: mousPage },
};

function signIn(main) {
  const token = h("textarea", { id: "dev-token", rows: 3, autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "signin", "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, "Sign in"),
    h("p", {}, "You are not signed in. ", h("a", { href: "/dev/signin" }, "Sign in with your agency"), " (in the demo: pick a persona)."),
    h("details", {}, h("summary", {}, "Development: use a bearer token"),
      h("label", { for: "dev-token" }, "Token from ", h("code", {}, "camgate token"), " (kept in this tab only)"), token,
      h("button", { type: "submit" }, "Use token")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    setDevToken(token.value.trim());
    location.reload();
  });
  main.replaceChildren(form);
}

// The skip link moves the focus without touching the hash (a hash change reloads the page, below).
document.querySelector(".skip").addEventListener("click", (e) => {
  e.preventDefault();
  document.getElementById("main").focus();
});

async function start() {
  const main = document.getElementById("main");
  const principal = await whoAmI();
  if (!principal) return signIn(main);
  document.getElementById("who").textContent = `${principal.sub} · ${principal.agency} · ${principal.roles.join(", ")}`;
  const out = document.getElementById("signout");
  if (devToken()) {
    out.hidden = false;
    out.addEventListener("click", () => { setDevToken(null); location.reload(); });
  }
  const mine = Object.entries(PAGES).filter(([, p]) => p.roles.some((r) => principal.roles.includes(r)));
  if (!mine.length) {
    main.replaceChildren(h("p", {}, `No console page for the roles ${principal.roles.join(", ")}: ask your administrator for a role.`));
    return;
  }
  document.getElementById("nav").replaceChildren(...mine.map(([id, p]) => h("a", { href: `#${id}`, "data-page": id }, p.title)));
  const route = async () => {
    const [wanted, ...rest] = location.hash.slice(1).split("/").map(decodeURIComponent);
    const [id, page] = mine.find(([k]) => k === wanted) || mine[0];
    for (const a of document.querySelectorAll("#nav a")) {
      if (a.dataset.page === id) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    }
    document.title = `${page.title} · camgate`;
    await page.render(main, principal, id === wanted ? rest : []);
  };
  window.addEventListener("hashchange", () => location.reload()); // players and timers start clean
  await route();
}

start();
