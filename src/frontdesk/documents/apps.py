from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "frontdesk.documents"
    label = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        # Unfiled documents are desk work: the desk queue reads them through this source.
        from frontdesk.desk.sources import desk_source_register
        from frontdesk.documents.desk import UnfiledDocuments

        desk_source_register(UnfiledDocuments())
