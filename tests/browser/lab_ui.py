"""What a learner does in JupyterLab, as Playwright steps: menus, running a notebook,
restarting the kernel, closing and reopening a tab, and reading what the page shows.

JupyterLab 4 renders off-screen cells with ``content-visibility: auto``, so text is
read with ``textContent`` (``innerText`` is empty for cells out of view).
"""
from __future__ import annotations

import re

import yaml
from playwright.sync_api import Locator, Page, expect

KERNEL_START_TIMEOUT = 60_000  # ms: starting a kernel and running a whole lesson
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in the current tab


def choose_menu_item(page: Page, menu: str, item: str) -> None:
    """Open a menu of the main menu bar and click one of its items, e.g. Run > Run All Cells."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    entry = page.locator(".lm-Menu:visible .lm-Menu-item", has=page.locator(
        ".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")))
    entry.click()


def open_notebook(page: Page, url: str) -> Locator:
    """Go to a notebook's /lab/tree URL; return it once its kernel is ready."""
    page.goto(url)
    return wait_for_notebook_and_kernel(page)


def wait_for_notebook_and_kernel(page: Page) -> Locator:
    notebook = page.locator(NOTEBOOK)
    expect(notebook.locator(".jp-Cell").first).to_be_visible(timeout=KERNEL_START_TIMEOUT)
    wait_for_kernel_idle(page)
    return notebook


def wait_for_kernel_idle(page: Page) -> None:
    """Wait for the status bar to read e.g. "Python 3 (ipykernel) | Idle". (The notebook toolbar's
    execution indicator says "idle" while the notebook has no kernel yet, so it is not enough:
    Run All Cells pressed then can be lost.)"""
    expect(page.locator("#jp-main-statusbar").get_by_text(re.compile(r"^(?!No Kernel).+ \| Idle$"))).to_be_visible(
        timeout=KERNEL_START_TIMEOUT)


def run_all_cells(page: Page) -> None:
    """Run > Run All Cells, then wait until the kernel is idle again and outputs show execution counts.
    (Lessons fold their code cells away, so the input prompts are placeholders: the output prompts,
    e.g. "[2]:", are what show a cell has run. Callers then wait for the widgets themselves.)"""
    page.locator(NOTEBOOK).locator(".jp-Cell").first.click()  # give the notebook focus, as a learner would
    choose_menu_item(page, "Run", "Run All Cells")
    page.wait_for_function(
        """selector => {
            const prompts = [...document.querySelectorAll(selector + ' .jp-CodeCell .jp-OutputPrompt')]
                .map(p => p.textContent.trim()).filter(Boolean);
            return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
        }""",
        arg=NOTEBOOK, timeout=KERNEL_START_TIMEOUT,
    )
    wait_for_kernel_idle(page)


def execution_counts(page: Page) -> list[int]:
    """The execution counts the outputs show, in order (e.g. [2, 3, 4])."""
    texts = page.locator(f"{NOTEBOOK} .jp-CodeCell .jp-OutputPrompt").evaluate_all(
        "prompts => prompts.map(p => p.textContent.trim())")
    return [int(t.strip("[]:")) for t in texts if re.fullmatch(r"\[\d+\]:", t)]


def wait_for_widgets(page: Page, expected: dict[str, int]) -> None:
    """Wait until the notebook shows ``expected[css_class]`` widgets of each course class."""
    notebook = page.locator(NOTEBOOK)
    for css_class, count in expected.items():
        expect(notebook.locator(f".{css_class}")).to_have_count(count, timeout=KERNEL_START_TIMEOUT)
    expect(notebook.get_by_text("Loading widget...")).to_have_count(0, timeout=KERNEL_START_TIMEOUT)


def notebook_text(page: Page) -> str:
    return page.locator(NOTEBOOK).evaluate("node => node.textContent")


def error_outputs(page: Page) -> list[str]:
    """Tracebacks and anything else the lesson's cells wrote to stderr."""
    return page.locator(
        f"{NOTEBOOK} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    ).evaluate_all("outputs => outputs.map(o => o.textContent.slice(0, 500))")


def restart_kernel(page: Page) -> None:
    """Kernel > Restart Kernel…, and confirm in the dialog. The widgets on the page lose their
    kernel side (ipywidgets marks them disconnected), then the new kernel becomes idle."""
    choose_menu_item(page, "Kernel", "Restart Kernel…")
    dialog = page.locator(".jp-Dialog")
    dialog.locator("button.jp-mod-accept").click()  # "Restart" (aria-label "Confirm Kernel Restart")
    expect(dialog).to_have_count(0)
    expect(page.locator(f"{NOTEBOOK} .jupyter-widgets-disconnected").first).to_be_attached(
        timeout=KERNEL_START_TIMEOUT)
    wait_for_kernel_idle(page)


def bring_into_view(page: Page, locator: Locator) -> None:
    """Scroll ``locator`` into view and let the browser paint it (for a screenshot)."""
    locator.scroll_into_view_if_needed()
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.wait_for_timeout(200)


def close_current_tab(page: Page) -> None:
    """File > Close Tab; if JupyterLab asks about unsaved changes, discard them (the file stays as shipped)."""
    choose_menu_item(page, "File", "Close Tab")
    dialog = page.locator(".jp-Dialog")
    try:
        dialog.wait_for(timeout=3_000)
    except Exception:  # no unsaved changes, no dialog
        pass
    else:
        dialog.get_by_role("button", name=re.compile("^Discard")).click()
    expect(page.locator(NOTEBOOK)).to_have_count(0)


def open_from_file_browser(page: Page, filename: str) -> Locator:
    """Double-click a file in the file browser on the left (it shows the folder last opened)."""
    item = page.locator(".jp-DirListing-item", has=page.locator(".jp-DirListing-itemText", has_text=filename))
    item.dblclick()
    return wait_for_notebook_and_kernel(page)


def focused_element(page: Page) -> str:
    """A short description of the element with keyboard focus, for messages."""
    return page.evaluate("""() => {
        const el = document.activeElement;
        if (!el || el === document.body) return 'the page body (focus was lost)';
        return `<${el.tagName.toLowerCase()} class="${el.className}"> ${(el.textContent || '').trim().slice(0, 60)}`;
    }""")


def focus_is_within(locator: Locator, css: str = "*") -> bool:
    """Is the focused element inside ``locator`` and does it match ``css``?"""
    return locator.evaluate(
        "(root, css) => root.contains(document.activeElement) && document.activeElement.matches(css)", css)


# Roles of the controls a learner can operate, as Playwright's ARIA snapshot names them.
_CONTROL = re.compile(r'^(button|textbox|checkbox|radio|combobox|slider|spinbutton|listbox|switch)\b(?: "(.*)")?')
# Icon fonts (Font Awesome in ipywidgets buttons) put private-use characters into the computed
# name; a screen reader has nothing to say for them, so an icon alone is no name.
_ICON_GLYPHS = re.compile("[\ue000-\uf8ff]")


def accessible_role_and_name(control: Locator) -> tuple[str, str]:
    """The role and accessible name Playwright computes for ``control`` (its ARIA snapshot,
    e.g. ``- textbox "Your answer": text``), as ("textbox", "Your answer"); "" where absent."""
    snapshot = control.aria_snapshot()
    items = yaml.safe_load(snapshot) if snapshot else None
    if not items:
        return "", ""
    item = items[0]
    heading = next(iter(item)) if isinstance(item, dict) else str(item)
    match = _CONTROL.match(heading)
    if not match:
        return heading, ""
    return match.group(1), _ICON_GLYPHS.sub("", match.group(2) or "").strip()


def controls_without_accessible_name(container: Locator) -> list[str]:
    """Every visible button, text box, tick box, radio button and list in ``container`` whose
    accessible name (as a screen reader computes it: text, aria-label, <label>, title) is empty."""
    problems = []
    controls = container.locator("button, textarea, input, select")
    for index in range(controls.count()):
        control = controls.nth(index)
        if not control.is_visible():
            continue
        role, name = accessible_role_and_name(control)
        if not name:
            problems.append(f"{describe_control(control)} has no accessible name (role: {role or 'none'})")
    return problems


def describe_control(control: Locator) -> str:
    """Name a control for a failure message: its tag, type, classes and nearby heading or text."""
    return control.evaluate("""el => {
        const kind = el.tagName.toLowerCase() + (el.tagName === 'INPUT' ? `[type=${el.type}]` : '');
        const owner = el.closest('.clientcare-scenario, .clientcare-reflection, .jp-OutputArea-output');
        const heading = owner && owner.querySelector('h3, h4, b');
        const where = heading ? ` in "${heading.textContent.trim().slice(0, 60)}"` : '';
        const text = (el.textContent || el.value || '').trim().slice(0, 40);
        return `<${kind} class="${el.className}">${text ? ' "' + text + '"' : ''}${where}`;
    }""")


def choose_submenu_item(page: Page, menu: str, submenu: str, item: str) -> None:
    """Open a menu, then one of its submenus, and click an item, e.g. Settings > Theme > JupyterLab Dark."""
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(".lm-Menu:visible .lm-Menu-item", has=page.locator(
        ".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(submenu)}$"))).click()
    page.locator(".lm-Menu:visible .lm-Menu-item", has=page.locator(
        ".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$"))).last.click()


THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def current_theme(page: Page) -> str:
    return "light" if page.evaluate("() => document.body.dataset.jpThemeLight") == "true" else "dark"


def set_theme(page: Page, theme: str) -> None:
    """Settings > Theme > JupyterLab Light or Dark, and wait until the page has its colours."""
    if current_theme(page) == theme:
        return
    choose_submenu_item(page, "Settings", "Theme", THEMES[theme])
    page.wait_for_function("light => document.body.dataset.jpThemeLight === light",
                           arg="true" if theme == "light" else "false")
    page.wait_for_timeout(300)  # the theme's stylesheet is applied after the attribute changes


def save_notebook(page: Page) -> None:
    """File > Save Notebook, and wait until the tab no longer shows unsaved changes."""
    choose_menu_item(page, "File", "Save Notebook")
    expect(page.locator(".jp-mod-current.jp-mod-dirty")).to_have_count(0, timeout=15_000)


# When a flashcard rating would bring the card back, as its button says once the answer is shown.
COMES_BACK = r"(?:in \d+ (?:minute|hour|day|month)s?|tomorrow)"


def rating_button(deck: Locator, rating: str) -> Locator:
    """A flashcard deck's rating button (Again, Hard, Good or Easy) once the answer is shown: found by its
    accessible name, which says when the card would come back, e.g. "Good · in 10 minutes"."""
    return deck.get_by_role("button", name=re.compile(rf"^{rating} · {COMES_BACK}$"))


def exercise_widgets(page: Page) -> None:
    """Bring out every state a widget colours differently, as a learner would by using it: a choice
    in each scenario (verdict, score, Restart), the first option of every quiz question and Submit
    (Correct / Not quite), a flashcard turned over and rated Good and the next one turned over (the rating
    buttons active), an interview answered with its model answers and a checklist point ticked, and an
    unreadable number in the fee calculator (the error beside its line)."""
    notebook = page.locator(NOTEBOOK)
    for scenario in notebook.locator(".clientcare-scenario").all():
        scenario.locator(".clientcare-choice").first.click()
        expect(scenario.get_by_role("status").first).to_be_visible()
    for quiz in notebook.locator(".clientcare-quiz").all():
        for group in quiz.locator(".clientcare-choices").all():
            options = group.locator("input[type=radio], input[type=checkbox]")
            if options.count():
                options.first.check()
            elif group.locator("input[type=text]").count():
                group.locator("input[type=text]").first.fill("1")
        quiz.get_by_role("button", name="Submit answers").click()
        expect(quiz.get_by_role("status").filter(has_text="Your score")).to_be_visible()
    for deck in notebook.locator(".clientcare-flashcards").all():
        deck.get_by_role("button", name="Show answer").click()
        rating_button(deck, "Good").click()
        expect(deck.get_by_role("status")).to_contain_text("Rated Good")
        deck.get_by_role("button", name="Show answer").click()  # the next card's answer and its rating buttons
        expect(rating_button(deck, "Easy")).to_be_enabled()
    for interview in notebook.locator(".clientcare-interview").all():  # the models and the checklist on screen
        interview.get_by_role("textbox", name="Your answer").fill("I would find out why first.")
        interview.get_by_role("button", name="Show model answers").click()
        interview.get_by_role("checkbox").first.check()
        expect(interview.get_by_role("checkbox").first).to_be_checked()
    for calculator in notebook.locator(".clientcare-fees").all():
        hours = calculator.get_by_role("textbox", name="Hours each").first
        hours.fill("lots")
        hours.press("Enter")
        expect(calculator.locator(".cc-field-error").first).to_be_visible()
