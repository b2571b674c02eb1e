# Install rules and the Debian package (CPack, DEB generator).
#
#   cmake --build build --target package    ->  build/cobrador_<version>_<arch>.deb
#
# Included at the end of the top-level CMakeLists.txt, after bot/ has defined the `cobrador`
# target. The layout is the package's: the binary and shared data under CMAKE_INSTALL_PREFIX
# (/usr in the package), configuration under /etc, the unit under /lib/systemd/system. The
# maintainer scripts (deploy/debian/) create the `cobrador` user and /var/lib/cobrador.
# A plain `cmake --install` writes the absolute paths too, so use it with DESTDIR.

set(cobrador_doc_dir share/doc/cobrador)
set(cobrador_data_dir share/cobrador)

install(TARGETS cobrador RUNTIME DESTINATION bin)

# Configuration. Both files are conffiles (deploy/debian/conffiles): an upgrade keeps the
# operator's edits. The TOML is 0640 and postinst gives it to group cobrador (the service reads
# it); the environment file is read by systemd as root before it drops privileges, so 0600 root.
install(FILES deploy/cobrador.example.toml
        DESTINATION /etc/cobrador RENAME cobrador.toml
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES deploy/cobrador.env
        DESTINATION /etc/cobrador
        PERMISSIONS OWNER_READ OWNER_WRITE)

# Examples an operator copies to /etc/cobrador to change (the binary embeds the defaults).
install(FILES dialogs/data/policy.json dialogs/data/reminders.json
        DESTINATION ${cobrador_data_dir})
file(GLOB cobrador_whatsapp_templates CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/deploy/whatsapp-templates/*.json)
install(FILES ${cobrador_whatsapp_templates}
        DESTINATION ${cobrador_data_dir}/whatsapp-templates)

# The service. No tmpfiles.d entry: StateDirectory= creates /var/lib/cobrador at start and
# postinst creates it at install; nothing else needs a directory at boot.
install(FILES deploy/cobrador.service DESTINATION /lib/systemd/system)

install(FILES README.md docs/operations.md deploy/cobrador.example.toml
        DESTINATION ${cobrador_doc_dir})

# ---- CPack ---------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cobrador)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "cobrador developers")
set(CPACK_PACKAGE_CONTACT "cobrador developers")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "collections chatbot for WhatsApp and SMS")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # cobrador_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_NAME cobrador)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "cobrador developers")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Shared-library dependencies come from dpkg-shlibdeps (dpkg-dev); ca-certificates is what the
# HTTPS client checks the providers' certificates against.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The OCR language data that `read-receipt` loads at run time (the libraries come by shlibdeps).
set(CPACK_DEBIAN_PACKAGE_DEPENDS "ca-certificates, tesseract-ocr-spa, tesseract-ocr-eng")
# CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY first, as the synopsis line.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Debtors on WhatsApp and SMS verify who they are, see what they owe, get a
payment reference, promise to pay or agree a plan; hard cases go to a human
collector through a web console. Every outcome lands in a SQLite ledger.
.
This package ships the cobrador binary, a hardened systemd unit (enabled,
not started, on first install), an example configuration in /etc/cobrador
and the WhatsApp message templates to register with Meta.")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
# Maintainer scripts 0755, conffiles 0644, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

include(CPack)
