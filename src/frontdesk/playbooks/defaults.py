# One step per line is the text format (text.py), and the text is what staff read: not wrapped.
# ruff: noqa: E501
"""The default text of each playbook, written for a general outpatient clinic.

Pure data (no models), so the data migration can hold a copy. The desk never gives medical
advice: every procedure says who decides and to whom the desk passes a clinical matter.
"""

from __future__ import annotations

from frontdesk.playbooks.models import PlaybookKey

DEFAULT_PLAYBOOKS: dict[str, tuple[str, str]] = {
    PlaybookKey.LATE_PATIENT: (
        "Late patient",
        """\
1. Greet the patient and check them in as usual. Do not comment on the time in front of others.
2. Check how late they are and what it does to the rest of the provider's day: the Today page and the schedule show who comes next.
3. Within the grace period for the visit: check in as normal and tell the nurse the patient is here.
4. Past the grace period: ask the nurse or the provider whether the patient can still be seen today. The clinical team decides, not the desk.
5. If they can be seen: tell the patient the estimated wait, and tell the next patients of that provider if their wait grows.
   - Say: "Thank you for coming in. The doctor can still see you today; the wait is about 25 minutes."
6. If they cannot be seen today: offer the next free times (Move to another time on the appointment) and book one before the patient leaves.
   - Say: "I'm sorry, we can't fit you in this morning without delaying other patients. I can book you today at 2:30 or tomorrow at 9."
7. If the patient says they feel unwell or the visit is urgent, tell the nurse at once, however late they are.
8. Note what was agreed (seen with a delay, or rebooked) so clinical staff know. If the same patient is often late, tell the supervisor.
""",
    ),
    PlaybookKey.UPSET_PATIENT: (
        "Upset or difficult patient",
        """\
1. Stay calm and keep your voice low. If you can, move the conversation away from the waiting area.
2. Listen without interrupting and let the patient finish.
3. Acknowledge the feeling and apologise for the experience, without blaming a colleague.
   - Say: "I'm sorry this happened. I can see why you are upset. Let me see what I can do."
4. Repeat back what you heard to check you understood, then say what you can do now and by when.
5. Write down what happened, in the patient's words, with the date, the time and who was involved.
6. If you cannot solve it at the desk, or the patient asks for a manager, call the supervisor. Tell the patient who will contact them and by when.
7. A complaint about care or about a member of staff always goes to the supervisor the same day.
8. If anyone is threatened or unsafe: step back, do not argue, and call the supervisor. If there is danger, call security or the emergency number.
""",
    ),
    PlaybookKey.MEDICAL_QUESTION: (
        "Medical question at the desk",
        """\
1. The desk does not give medical advice, even when you think you know the answer. This includes medicines, doses, test results and whether a symptom is serious.
   - Say: "That's a question for the nurse. I can't give medical advice, but I will make sure they get your question today."
2. Chest pain, trouble breathing, heavy bleeding, signs of a stroke, or thoughts of self-harm: get the nurse or a doctor immediately. If no clinician is on site, call the emergency number.
3. Otherwise write the question down in the patient's words, with a call-back number and the best time to reach them.
4. Pass it to the nurse (or to the patient's own doctor) the same day and check that it arrived.
5. Tell the patient who will answer and when to expect it.
6. When the answer comes back, pass on only what the clinician asked you to pass on, or book the call-back.
""",
    ),
    PlaybookKey.BUSY_WAITING_ROOM: (
        "Busy waiting room",
        """\
1. Make sure everyone waiting is checked in. Walk past the waiting area and ask anyone you have not seen at the desk.
2. Look at the Today page and the flow board: who has waited longest, and which providers are running late.
3. Tell the nurses and providers how full the waiting room is and who has waited longest.
4. Give patients an honest estimate of their wait, and tell them again when it changes. Never promise a time you cannot keep.
   - Say: "The doctor is running about 20 minutes behind today. I'm sorry for the wait. I'll let you know if it changes."
5. When a delay passes 30 minutes, offer to rebook anyone who would rather not wait.
6. Anyone who looks unwell or gets worse while waiting: tell the nurse at once.
7. If the queue at the desk keeps growing, ask the supervisor for a second person at the desk.
""",
    ),
    PlaybookKey.CONFIDENTIALITY: (
        "Confidentiality at the desk",
        """\
1. Speak quietly. Ask for birth date, address and reason for the visit in a low voice, or let the patient write them down.
2. In the waiting room call patients by first name or by ticket number. Never say a full name together with the reason for the visit.
3. Keep screens turned away from the public. Lock the screen or sign out whenever you leave the desk.
4. Open only the records you need for the task in front of you. Every record you open is logged.
5. Confirm identity (full name and birth date) before you discuss an appointment or give out any information, at the desk or on the phone.
6. Give information to family members or others only if the patient agreed to it. If unsure, ask the supervisor.
7. A restricted record asks for a reason before it opens: give the true reason. The supervisor is told.
8. Papers with patient details go face down, are never left on the counter, and go into the locked shredding bin when done.
9. If patient information was seen or shared by mistake, tell the supervisor the same day.
""",
    ),
    PlaybookKey.SYSTEM_OUTAGE: (
        "System outage",
        """\
1. Tell the supervisor at once, and check whether colleagues have the same problem (one screen, or the whole system?).
2. Switch to paper: use the day's schedule, printed each morning from the Schedule page, and the paper check-in sheet and registration forms of the downtime pack (Playbooks). Keep a printed stack of forms at the desk at all times.
3. Check patients in on the paper check-in sheet: arrival time, ticket number, name, birth date, provider. Read back name and birth date as usual.
4. New patients fill in the paper registration form. Do not guess which existing record is theirs.
5. Tell the nurses and providers that the system is down, and hand them the check-in sheet in order of arrival.
6. Phone requests for appointments: write them down and tell the patient you will call back to confirm once the system is back.
7. Never take patient papers home, photograph them, or send them by personal email or phone.
8. When the system is back: enter every paper form (check-ins, new patients, bookings), write "entered" and your initials on each, and give them to the supervisor to check and keep locked away.
   - Supervisor: report the outage to IT support, and put up a notice for patients if waits grow.
""",
    ),
    PlaybookKey.EMERGENCY: (
        "Emergency at the desk",
        """\
1. Register the patient as a walk-in with priority Emergency and say why in a few words (for example "Chest pain, short of breath"). Every nurse's and physician's screen alerts at once, with a sound.
2. Never tell the patient a waiting time. A clinician comes now.
   - Say: "I have called the nurse; someone is coming to you right now."
3. Stay with the patient, or ask a colleague to. Keep them seated, and keep the way to them clear.
4. Watch the alert: it says which nurse or physician acknowledged it and is on the way. If nobody has acknowledged it in time (two minutes unless the clinic set another), the supervisor is told; go and fetch a clinician yourself.
5. If the patient collapses, stops breathing, or no clinician is on site: call the emergency number at once, then tell the supervisor.
6. Do not give medical advice, food, drink or medicine. Hand over to the clinician what the patient told you and when it started.
7. Afterwards, complete the walk-in's record and tell the supervisor what happened.
""",
    ),
}
