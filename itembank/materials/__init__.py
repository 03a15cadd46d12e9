"""The teaching-materials exchange: teachers share lesson plans and other materials (a file stored
in the database, or a link) with bilingual metadata; a reviewer approves them; visibility is the
own school, the own city, the partner cities or everyone (:mod:`.scope`); metadata travels as
schema.org ``LearningResource`` JSON-LD (:mod:`.jsonld`).  Uses ``bank``, ``orgs`` and ``accounts``."""
